#include "cli/slurm_launcher.h"

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <sys/stat.h>

#include "cli/subprocess.h"
#include "engine/config/sbatch_script.h"
#include "engine/store/run_store.h"

namespace lorica::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// "123_4" → (123, 4); anything else (a pending range "123_[5-7]", a step "123_4.batch") → false.
bool parse_array_task(const std::string& id, std::string& job, int& index) {
    const auto underscore = id.find('_');
    if (underscore == std::string::npos) return false;
    const std::string task = id.substr(underscore + 1);
    if (task.empty() || task.find_first_not_of("0123456789") != std::string::npos) return false;
    job = id.substr(0, underscore);
    index = std::stoi(task);
    return true;
}

// Each line "ID|STATE" of squeue/sacct output, mapped to sweep job indices of the newest submission
// naming them.
void collect(const std::string& text, const std::map<std::string, int>& job_rank, std::map<int, std::string>& out,
             std::map<int, int>& out_rank) {
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        const auto bar = line.find('|');
        if (bar == std::string::npos) continue;
        std::string job;
        int index = 0;
        if (!parse_array_task(line.substr(0, bar), job, index)) continue;
        auto rank = job_rank.find(job);
        if (rank == job_rank.end()) continue;
        std::string state = line.substr(bar + 1);
        if (auto space = state.find(' '); space != std::string::npos)
            state = state.substr(0, space);  // "CANCELLED by 0"
        if (auto it = out_rank.find(index); it != out_rank.end() && it->second > rank->second) continue;
        out[index] = state;
        out_rank[index] = rank->second;
    }
}

}  // namespace

std::vector<SlurmSubmission> read_submissions(const SweepLayout& layout) {
    std::vector<SlurmSubmission> out;
    std::ifstream in(layout.submissions_file());
    if (!in) return out;
    try {
        for (const json& s : json::parse(in))
            out.push_back({s.at("job_id").get<std::string>(), s.at("indices").get<std::vector<int>>(),
                           s.value("array", ""), s.value("submitted_at", "")});
    } catch (const std::exception& e) {
        throw std::runtime_error("'" + layout.submissions_file() + "' is malformed: " + e.what());
    }
    return out;
}

std::string write_sbatch_script(const SweepPlan& plan, const SweepLayout& layout, const std::string& cli_path) {
    fs::create_directories(layout.logs_dir());
    const std::string path = layout.sbatch_file();
    std::ofstream out(path);
    out << sbatch_script(plan, cli_path, layout.dir);
    out.close();
    if (!out) throw std::runtime_error("cannot write '" + path + "'");
    fs::permissions(path, fs::perms::owner_exec | fs::perms::group_exec, fs::perm_options::add);
    return path;
}

std::vector<std::string> sbatch_command(const SweepPlan& plan, const SweepLayout& layout,
                                        const std::vector<int>& indices) {
    std::vector<std::string> argv = {"sbatch", "--parsable"};
    if (indices.size() != plan.jobs.size())
        argv.push_back("--array=" + array_spec(indices, plan.launcher.max_parallel));
    argv.push_back(layout.sbatch_file());
    return argv;
}

std::string submit_sweep(const SweepPlan& plan, const SweepLayout& layout, const std::vector<int>& indices) {
    if (!on_path("sbatch"))
        throw std::runtime_error("sbatch is not installed (not on PATH): is this a Slurm login node?");
    const auto argv = sbatch_command(plan, layout, indices);
    const CommandResult r = run_command(argv);
    if (r.exit_code != 0)
        throw std::runtime_error("sbatch failed (exit " + std::to_string(r.exit_code) + "): " + r.err + r.out);
    std::string id = r.out.substr(0, r.out.find_first_of(";\n"));
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw std::runtime_error("sbatch printed no job id: '" + r.out + "'");
    json all = json::array();
    for (const auto& s : read_submissions(layout))
        all.push_back(
            {{"job_id", s.job_id}, {"indices", s.indices}, {"array", s.array}, {"submitted_at", s.submitted_at}});
    all.push_back({{"job_id", id},
                   {"indices", indices},
                   {"array", array_spec(indices, plan.launcher.max_parallel)},
                   {"submitted_at", RunStore::now_iso8601()}});
    const std::string tmp = layout.submissions_file() + ".tmp";
    std::ofstream(tmp) << all.dump(2) << "\n";
    fs::rename(tmp, layout.submissions_file());
    return id;
}

SlurmView query_slurm(const SweepLayout& layout) {
    SlurmView view;
    const auto submissions = read_submissions(layout);
    if (submissions.empty()) return view;
    std::map<std::string, int> rank;  // job id → position (later = newer)
    std::string ids;
    for (size_t i = 0; i < submissions.size(); ++i) {
        rank[submissions[i].job_id] = static_cast<int>(i);
        ids += (ids.empty() ? "" : ",") + submissions[i].job_id;
        for (int index : submissions[i].indices) view.submitted[index] = true;
    }
    std::map<int, int> queue_rank, acct_rank;
    if (on_path("squeue")) {
        const CommandResult q = run_command({"squeue", "-h", "-r", "-j", ids, "-o", "%i|%T"});
        // A job purged from the controller makes squeue fail with "Invalid job id": the queue is known (empty).
        if (q.exit_code == 0 || q.err.find("Invalid job id") != std::string::npos) {
            view.queue_known = true;
            collect(q.out, rank, view.queue, queue_rank);
        }
    }
    if (on_path("sacct")) {
        const CommandResult a = run_command({"sacct", "-n", "-P", "-X", "-j", ids, "-o", "JobID,State"});
        if (a.exit_code == 0) collect(a.out, rank, view.accounting, acct_rank);
    }
    return view;
}

}  // namespace lorica::cli
