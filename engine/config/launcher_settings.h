#pragma once
// The "launcher" section of an experiment config: how a sweep's jobs are run (engine/config/sweep_jobs.h,
// `lorica-cli sweep`), never what they compute. It is validated with the rest of the config (a typo is
// an error) but it is not part of the effective config: `to_json(ExperimentConfig)` leaves it out, so
// the configs and hashes stored with runs do not depend on where or how the runs were launched.
//
//   "launcher": {"kind": "slurm", "partition": "gpu", "time": "04:00:00", "cpus_per_task": 8,
//                "mem": "32G", "gpus_per_task": 1, "max_parallel": 20, "account": "proj42",
//                "qos": "normal", "sbatch": ["--constraint=a100"], "jobs": 4}
//
//   kind           local | slurm                         (--launcher)
//   jobs           local: worker processes (0 = cores ÷ cpus per job)    (--jobs)
//   cpus_per_task  threads of one job (0 = the config's `threads` when > 0, else 1)   (--cpus-per-task)
//   partition, time, mem, account, qos   passed to #SBATCH as they are ("" = the cluster's default)
//   gpus_per_task  #SBATCH --gres=gpu:N (0 = none); the job then sees the GPUs Slurm gives it
//                  through CUDA_VISIBLE_DEVICES, and device auto/cuda uses the first of them
//   max_parallel   K of --array=0-(n-1)%K: at most K array tasks at once (0 = no throttle)
//   sbatch         extra #SBATCH option lines, verbatim ("--constraint=a100")
// Command-line flags of `lorica-cli sweep` override the section field by field.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorica {

enum class LauncherKind { local, slurm };

const char* to_string(LauncherKind kind);
// Throws ConfigError("launcher.kind") for anything but "local" / "slurm".
LauncherKind launcher_kind_from_string(const std::string& text);

struct LauncherSettings {
    LauncherKind kind = LauncherKind::local;
    int jobs = 0;           // local worker processes; 0 = cores ÷ cpus_per_task
    int cpus_per_task = 0;  // 0 = config threads when > 0, else 1
    std::string partition;
    std::string time;  // Slurm time limit, e.g. "04:00:00" or "2-00:00:00"
    std::string mem;   // Slurm memory per job, e.g. "16G"
    int gpus_per_task = 0;
    int max_parallel = 0;  // array throttle K; 0 = none
    std::string account;
    std::string qos;
    std::vector<std::string> sbatch_extra;  // extra "#SBATCH <line>" options
};

// Parses a "launcher" object; throws ConfigError naming "launcher.<field>".
LauncherSettings parse_launcher_settings(const nlohmann::json& section);
nlohmann::json to_json(const LauncherSettings& settings);

}  // namespace lorica
