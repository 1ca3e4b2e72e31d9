#include "engine/config/sbatch_script.h"

#include <algorithm>
#include <cctype>
#include <filesystem>

namespace lorica {

std::string shell_quote(const std::string& text) {
    std::string out = "'";
    for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::string array_spec(const std::vector<int>& indices, int max_parallel) {
    std::vector<int> sorted = indices;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::string out;
    for (size_t i = 0; i < sorted.size();) {
        size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
        if (!out.empty()) out += ",";
        out += std::to_string(sorted[i]);
        if (j > i) out += "-" + std::to_string(sorted[j]);
        i = j + 1;
    }
    if (max_parallel > 0) out += "%" + std::to_string(max_parallel);
    return out;
}

std::string sbatch_script(const SweepPlan& plan, const std::string& cli_path, const std::string& sweep_dir) {
    namespace fs = std::filesystem;
    const LauncherSettings& l = plan.launcher;
    SweepLayout layout{sweep_dir};
    std::vector<int> all;
    for (const SweepJob& job : plan.jobs) all.push_back(job.index);
    // Slurm job names: keep them to letters, digits and - _ . (the experiment name may hold anything).
    std::string name = "lorica-";
    for (char c : plan.name)
        name += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.') ? c : '_';

    std::string s = "#!/bin/bash\n";
    s += "# Lorica sweep: " + std::to_string(plan.jobs.size()) + " jobs (" +
         std::to_string(std::max<size_t>(1, plan.variants.size())) + " variants x " +
         std::to_string(plan.seeds.size()) + " seeds) of experiment '" + plan.name + "' (" + plan.experiment_uuid +
         ").\n";
    s += "# Written by `lorica-cli sweep`; jobs in " + layout.jobs_file() + ".\n";
    s += "#SBATCH --job-name=" + name + "\n";
    s += "#SBATCH --array=" + array_spec(all, l.max_parallel) + "\n";
    s += "#SBATCH --output=" + (fs::path(layout.logs_dir()) / "slurm-%A_%a.out").string() + "\n";
    s += "#SBATCH --ntasks=1\n";
    s += "#SBATCH --cpus-per-task=" + std::to_string(plan.threads_per_job) + "\n";
    if (!l.partition.empty()) s += "#SBATCH --partition=" + l.partition + "\n";
    if (!l.time.empty()) s += "#SBATCH --time=" + l.time + "\n";
    if (!l.mem.empty()) s += "#SBATCH --mem=" + l.mem + "\n";
    if (l.gpus_per_task > 0) s += "#SBATCH --gres=gpu:" + std::to_string(l.gpus_per_task) + "\n";
    if (!l.account.empty()) s += "#SBATCH --account=" + l.account + "\n";
    if (!l.qos.empty()) s += "#SBATCH --qos=" + l.qos + "\n";
    for (const std::string& extra : l.sbatch_extra) s += "#SBATCH " + extra + "\n";
    s += "\n";
    s += "# One job = one (variant, seed) run. Its database is written under $TMPDIR (node-local) and\n";
    s += "# published as shards/<job>.sqlite with VACUUM INTO when the run ends.\n";
    s += "export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-" + std::to_string(plan.threads_per_job) + "}\n";
    s += "exec " + shell_quote(cli_path) + " run --job " + shell_quote(layout.jobs_file()) +
         " --index \"$SLURM_ARRAY_TASK_ID\"\n";
    return s;
}

}  // namespace lorica
