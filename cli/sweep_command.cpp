#include "cli/sweep_command.h"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

#include "cli/local_launcher.h"
#include "cli/slurm_launcher.h"
#include "cli/subprocess.h"
#include "engine/config/config_check.h"
#include "engine/config/launcher_settings.h"
#include "engine/config/presets.h"
#include "engine/config/sbatch_script.h"
#include "engine/config/sweep_jobs.h"
#include "engine/config/sweep_status.h"
#include "engine/store/run_store.h"
#include "engine/store/uuid.h"

namespace lorica::cli {
namespace {

namespace fs = std::filesystem;

struct JobRow {
    const SweepJob* job;
    JobStatus status;
};

std::vector<JobRow> job_statuses(const SweepPlan& plan, const SweepLayout& layout) {
    const SlurmView slurm = query_slurm(layout);
    const std::string host = RunStore::host_name();
    std::vector<JobRow> rows;
    for (const SweepJob& job : plan.jobs) {
        JobEvidence e;
        const std::string record_path = layout.status(job);
        if (std::ifstream in(record_path); in) {
            nlohmann::json doc;
            try {
                doc = nlohmann::json::parse(in);
            } catch (const std::exception& ex) {
                throw std::runtime_error("job status file '" + record_path + "' is not valid JSON: " + ex.what());
            }
            e.record = job_record_from_json(doc, record_path);
            if (e.record->host == host && e.record->pid > 0 && e.record->state == "running")
                e.process_alive = ::kill(static_cast<pid_t>(e.record->pid), 0) == 0 || errno == EPERM;
        }
        e.shard_present = fs::exists(layout.shard(job));
        e.submitted = slurm.submitted.count(job.index) > 0;
        e.queue_known = slurm.queue_known;
        if (auto it = slurm.queue.find(job.index); it != slurm.queue.end()) e.queue_state = it->second;
        if (auto it = slurm.accounting.find(job.index); it != slurm.accounting.end()) e.accounting_state = it->second;
        rows.push_back({&job, classify_job(e)});
    }
    return rows;
}

std::string counts_line(const std::vector<JobRow>& rows) {
    int n[4] = {0, 0, 0, 0};
    for (const auto& r : rows) ++n[static_cast<int>(r.status.state)];
    return std::to_string(rows.size()) + (rows.size() == 1 ? " job: " : " jobs: ") + std::to_string(n[0]) +
           " pending, " + std::to_string(n[1]) + " running, " + std::to_string(n[2]) + " finished, " +
           std::to_string(n[3]) + " failed";
}

void print_merge_hint(const SweepLayout& layout) {
    std::printf("merge the shards into one results database with:\n  lorica-cli merge --into results.sqlite %s\n",
                shell_quote(layout.shards_dir()).c_str());
}

// Moves a failed job's status file and shard out of the way (DIR/failed/<job>.<time>.*).
void retire_attempt(const SweepLayout& layout, const SweepJob& job) {
    const fs::path failed = fs::path(layout.dir) / "failed";
    fs::create_directories(failed);
    std::string stamp = RunStore::now_iso8601();
    for (char& c : stamp)
        if (c == ':') c = '-';
    for (const auto& [from, ext] : {std::pair{layout.status(job), ".json"}, {layout.shard(job), ".sqlite"}})
        if (fs::exists(from)) fs::rename(from, failed / (job.name + "." + stamp + ext));
}

}  // namespace

SweepCommand::SweepCommand(CLI::App& app) {
    command_ = app.add_subcommand("sweep",
                                  "run an experiment's variants × seeds as one job each (local worker "
                                  "processes or a Slurm job array), one results database per job");
    auto* config =
        command_->add_option("-c,--config", config_path_, "experiment config JSON file")->check(CLI::ExistingFile);
    command_->add_option("-p,--preset", preset_, "preset name (see `lorica-cli presets`)")->excludes(config);
    command_->add_option("-s,--set", overrides_, "override a config field: key=value (repeatable)");
    command_->add_option("-o,--out", out_, "sweep directory: jobs.json, shards/, status/, logs/, sweep.sbatch");
    command_->add_option("--launcher", launcher_, "local (default) or slurm; default: the config's launcher.kind")
        ->check(CLI::IsMember({"local", "slurm"}));
    command_->add_option("--jobs", jobs_, "local: worker processes (default: cores ÷ threads per job)")
        ->check(CLI::PositiveNumber);
    command_
        ->add_option("--cpus-per-task", cpus_per_task_,
                     "threads (CPUs) per job (default: the config's threads, else 1)")
        ->check(CLI::PositiveNumber);
    command_->add_option("--partition", partition_, "slurm: partition");
    command_->add_option("--time", time_, "slurm: time limit per job, e.g. 04:00:00");
    command_->add_option("--mem", mem_, "slurm: memory per job, e.g. 16G");
    command_->add_option("--gpus-per-task", gpus_per_task_, "slurm: GPUs per job (#SBATCH --gres=gpu:N)")
        ->check(CLI::NonNegativeNumber);
    command_->add_option("--max-parallel", max_parallel_, "slurm: at most K array tasks at once (--array=0-(n-1)%K)")
        ->check(CLI::PositiveNumber);
    command_->add_option("--account", account_, "slurm: account");
    command_->add_option("--qos", qos_, "slurm: quality of service");
    command_->add_option("--sbatch-option", sbatch_extra_,
                         "slurm: an extra #SBATCH option, e.g. --constraint=a100 (repeatable)");
    command_->add_flag("--dry-run", dry_run_, "write jobs.json (and sweep.sbatch) and print the commands, run nothing");
    command_
        ->add_option("--status", status_dir_, "report the jobs of the sweep in DIR: pending, running, finished, failed")
        ->check(CLI::ExistingDirectory);
    command_->add_option("--retry", retry_, "resubmit the sweep's (--out DIR) failed jobs alone")
        ->check(CLI::IsMember({"failed"}));
}

bool SweepCommand::selected() const { return command_->parsed(); }

int SweepCommand::run() const {
    if (!status_dir_.empty() && retry_.empty()) return status(status_dir_);
    if (!retry_.empty()) {
        const std::string dir = !out_.empty() ? out_ : status_dir_;
        if (dir.empty()) throw ConfigError("--retry", "needs the sweep directory: --out DIR");
        return retry(dir);
    }
    return start();
}

int SweepCommand::start() const {
    if (out_.empty()) throw ConfigError("--out", "a new sweep needs its directory: --out DIR");
    nlohmann::json doc = assemble_config_document(config_path_, preset_, overrides_);
    LauncherSettings l = doc.contains("launcher") ? parse_launcher_settings(doc["launcher"]) : LauncherSettings{};
    if (!launcher_.empty()) l.kind = launcher_kind_from_string(launcher_);
    if (jobs_ > 0) l.jobs = jobs_;
    if (cpus_per_task_ > 0) l.cpus_per_task = cpus_per_task_;
    if (!partition_.empty()) l.partition = partition_;
    if (!time_.empty()) l.time = time_;
    if (!mem_.empty()) l.mem = mem_;
    if (command_->count("--gpus-per-task")) l.gpus_per_task = gpus_per_task_;
    if (max_parallel_ > 0) l.max_parallel = max_parallel_;
    if (!account_.empty()) l.account = account_;
    if (!qos_.empty()) l.qos = qos_;
    l.sbatch_extra.insert(l.sbatch_extra.end(), sbatch_extra_.begin(), sbatch_extra_.end());
    nlohmann::json checked = to_json(l);  // the flags pass the section's own checks too
    l = parse_launcher_settings(checked);

    const ExperimentConfig config = parse_experiment_config(doc);
    validate_experiment(config);
    const SweepLayout layout{fs::absolute(out_).lexically_normal().string()};
    if (fs::exists(layout.jobs_file()))
        throw ConfigError("--out", "'" + layout.dir + "' already holds a sweep (jobs.json): see it with --status, " +
                                       "rerun its failed jobs with --retry failed, or choose another --out");
    fs::create_directories(layout.shards_dir());
    fs::create_directories(layout.status_dir());
    fs::create_directories(layout.logs_dir());
    const SweepPlan plan = plan_sweep(config, l, new_uuid());
    write_sweep_plan(plan, layout.jobs_file());
    const size_t variants = std::max<size_t>(1, plan.variants.size());
    std::printf("sweep '%s': %zu job%s (%zu variant%s × %zu seed%s), experiment %s\n  %s\n", plan.name.c_str(),
                plan.jobs.size(), plan.jobs.size() == 1 ? "" : "s", variants, variants == 1 ? "" : "s",
                plan.seeds.size(), plan.seeds.size() == 1 ? "" : "s", plan.experiment_uuid.c_str(),
                layout.jobs_file().c_str());
    std::vector<int> all;
    for (const SweepJob& job : plan.jobs) all.push_back(job.index);
    const std::string cli = self_executable();

    if (l.kind == LauncherKind::slurm) {
        const std::string script = write_sbatch_script(plan, layout, cli);
        std::printf("  %s\n", script.c_str());
        if (dry_run_) {
            std::string line;
            for (const auto& a : sbatch_command(plan, layout, all)) line += (line.empty() ? "" : " ") + shell_quote(a);
            std::printf("dry run, not submitted; submit with:\n  %s\n", line.c_str());
            return 0;
        }
        const std::string id = submit_sweep(plan, layout, all);
        std::printf("submitted Slurm job array %s (%s); follow it with:\n  lorica-cli sweep --status %s\n", id.c_str(),
                    array_spec(all, l.max_parallel).c_str(), shell_quote(layout.dir).c_str());
        return 0;
    }
    const int workers = l.jobs > 0 ? l.jobs : default_local_workers(plan, static_cast<int>(plan.jobs.size()));
    const int failed = run_local_jobs(plan, layout, all, workers, cli, dry_run_);
    if (dry_run_) return 0;
    std::printf("%s\n", counts_line(job_statuses(plan, layout)).c_str());
    print_merge_hint(layout);
    return failed == 0 ? 0 : 1;
}

int SweepCommand::status(const std::string& dir) const {
    const SweepLayout layout{fs::absolute(dir).lexically_normal().string()};
    const SweepPlan plan = read_sweep_plan(layout.jobs_file());
    const auto rows = job_statuses(plan, layout);
    std::printf("sweep '%s' (experiment %s, %s launcher) in %s\n", plan.name.c_str(), plan.experiment_uuid.c_str(),
                to_string(plan.launcher.kind), layout.dir.c_str());
    std::printf("%-10s %-24s %6s  %-9s %s\n", "job", "variant", "seed", "state", "detail");
    for (const auto& r : rows)
        std::printf("%-10s %-24s %6lld  %-9s %s\n", r.job->name.c_str(),
                    r.job->variant.empty() ? "-" : r.job->variant.c_str(), static_cast<long long>(r.job->seed),
                    to_string(r.status.state), r.status.detail.c_str());
    std::printf("%s\n", counts_line(rows).c_str());
    return 0;
}

int SweepCommand::retry(const std::string& dir) const {
    const SweepLayout layout{fs::absolute(dir).lexically_normal().string()};
    SweepPlan plan = read_sweep_plan(layout.jobs_file());
    if (!launcher_.empty()) plan.launcher.kind = launcher_kind_from_string(launcher_);
    std::vector<int> failed;
    for (const auto& r : job_statuses(plan, layout))
        if (r.status.state == SweepJobState::failed) failed.push_back(r.job->index);
    if (failed.empty()) {
        std::printf("no failed jobs in %s\n", layout.dir.c_str());
        return 0;
    }
    std::printf(
        "retrying %zu failed job%s (%s); each resumes its run from its last task checkpoint when the failed "
        "attempt left a shard with a resumable run, else starts it again\n",
        failed.size(), failed.size() == 1 ? "" : "s", array_spec(failed, 0).c_str());
    if (!dry_run_)
        for (int i : failed) retire_attempt(layout, plan.jobs[i]);
    if (plan.launcher.kind == LauncherKind::slurm) {
        if (!fs::exists(layout.sbatch_file())) write_sbatch_script(plan, layout, self_executable());
        if (dry_run_) {
            std::string line;
            for (const auto& a : sbatch_command(plan, layout, failed))
                line += (line.empty() ? "" : " ") + shell_quote(a);
            std::printf("dry run, not submitted:\n  %s\n", line.c_str());
            return 0;
        }
        const std::string id = submit_sweep(plan, layout, failed);
        std::printf("submitted Slurm job array %s (%s)\n", id.c_str(),
                    array_spec(failed, plan.launcher.max_parallel).c_str());
        return 0;
    }
    const int workers = jobs_ > 0                ? jobs_
                        : plan.launcher.jobs > 0 ? plan.launcher.jobs
                                                 : default_local_workers(plan, static_cast<int>(failed.size()));
    const int still_failed = run_local_jobs(plan, layout, failed, workers, self_executable(), dry_run_);
    if (dry_run_) return 0;
    std::printf("%s\n", counts_line(job_statuses(plan, layout)).c_str());
    print_merge_hint(layout);
    return still_failed == 0 ? 0 : 1;
}

}  // namespace lorica::cli
