#pragma once
// The Slurm batch script of a sweep (DIR/sweep.sbatch): one job array over the plan's jobs, each array
// task running `lorica-cli run --job DIR/jobs.json --index $SLURM_ARRAY_TASK_ID`.
//
//   #!/bin/bash
//   #SBATCH --job-name=lorica-<experiment>
//   #SBATCH --array=0-(n-1)%K            (%K only when launcher.max_parallel > 0)
//   #SBATCH --output=DIR/logs/slurm-%A_%a.out
//   #SBATCH --cpus-per-task=<threads per job>
//   #SBATCH --partition= --time= --mem= --gres=gpu:N --account= --qos=   (only those set)
//   #SBATCH <each launcher.sbatch line>
//   export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-<threads>}
//   exec '<lorica-cli>' run --job 'DIR/jobs.json' --index "$SLURM_ARRAY_TASK_ID"
//
// A task writes its database under $TMPDIR (node-local on most clusters; /tmp when unset) and
// publishes it as DIR/shards/<job>.sqlite with VACUUM INTO at the end (cli/job_command.cpp), so no
// SQLite file is ever written on the shared file system. Resubmitting some jobs only
// (`--retry failed`) passes `--array=<indices>%K` on the sbatch command line, which overrides the
// script's #SBATCH --array line.

#include <string>
#include <vector>

#include "engine/config/sweep_jobs.h"

namespace lorica {

// `cli_path`: absolute path of the lorica-cli the tasks run; `sweep_dir`: absolute path of DIR.
std::string sbatch_script(const SweepPlan& plan, const std::string& cli_path, const std::string& sweep_dir);

// "0-3%2" for indices 0..3 with max_parallel 2; "1,4-6" for {1, 4, 5, 6} without a throttle.
std::string array_spec(const std::vector<int>& indices, int max_parallel);

// `text` quoted for a POSIX shell ('...' with ' written as '\'').
std::string shell_quote(const std::string& text);

}  // namespace lorica
