#pragma once
// `lorica-cli sweep`: an experiment's variants × seeds as one job each (engine/config/sweep_jobs.h),
// run by local worker processes or as a Slurm job array, one results database ("shard") per job.
//
//   lorica-cli sweep --config grid.json --out sweep/                      local, cores ÷ threads workers
//   lorica-cli sweep --config grid.json --out sweep/ --launcher slurm --partition gpu --time 4:00:00
//                    --cpus-per-task 8 --mem 32G --gpus-per-task 1 --max-parallel 20 [--dry-run]
//   lorica-cli sweep --status sweep/                                      pending/running/finished/failed
//   lorica-cli sweep --out sweep/ --retry failed                          resubmit the failed jobs alone
//   lorica-cli merge --into results.sqlite sweep/shards/                  one store (cli/merge_command.h)
//
// A new sweep writes DIR/jobs.json (refusing a DIR that already holds one), then launches every job:
// local — `run_local_jobs` (cli/local_launcher.h), which waits for them; slurm — DIR/sweep.sbatch,
// submitted with sbatch (cli/slurm_launcher.h), or printed with --dry-run. Launcher settings come from
// the config's "launcher" section (engine/config/launcher_settings.h), each flag overriding its field.
// `--retry failed` moves each failed job's status file and shard to DIR/failed/ and launches it
// again with the sweep's launcher (a retried job resumes its run from its last task checkpoint when the
// failed attempt's shard holds a resumable run, cli/job_command.h; else it starts the run again).
// Exit codes: 0 launched (slurm) or every job finished (local), 1 some local job failed, 2 bad input.

#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace lorica::cli {

class SweepCommand {
public:
    explicit SweepCommand(CLI::App& app);
    bool selected() const;
    int run() const;

private:
    int start() const;
    int status(const std::string& dir) const;
    int retry(const std::string& dir) const;

    CLI::App* command_ = nullptr;
    std::string config_path_, preset_, out_, status_dir_, retry_, launcher_;
    std::vector<std::string> overrides_, sbatch_extra_;
    int jobs_ = 0, cpus_per_task_ = 0, gpus_per_task_ = 0, max_parallel_ = 0;
    std::string partition_, time_, mem_, account_, qos_;
    bool dry_run_ = false;
};

}  // namespace lorica::cli
