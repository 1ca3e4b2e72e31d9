#pragma once
// The Slurm launcher of `lorica-cli sweep`: submits DIR/sweep.sbatch (engine/config/sbatch_script.h)
// with sbatch and asks squeue / sacct how the array's tasks are doing.
//
// Every submission is recorded in DIR/submissions.json — [{"job_id": "123", "indices": [0, 1, 2, 3],
// "array": "0-3%2", "submitted_at": "..."}] — so `--status` knows which Slurm job holds which sweep
// job (a retried sweep job belongs to the latest submission that names it). sacct is optional: a
// cluster without accounting answers nothing and the status comes from squeue and the jobs' own files.

#include <map>
#include <string>
#include <vector>

#include "engine/config/sweep_jobs.h"

namespace lorica::cli {

struct SlurmSubmission {
    std::string job_id;
    std::vector<int> indices;
    std::string array;
    std::string submitted_at;
};

std::vector<SlurmSubmission> read_submissions(const SweepLayout& layout);

// Writes DIR/sweep.sbatch for `plan` (running `cli_path`). Returns its path.
std::string write_sbatch_script(const SweepPlan& plan, const SweepLayout& layout, const std::string& cli_path);

// The sbatch command line for `indices` (all of the plan's jobs: the script's own --array line).
std::vector<std::string> sbatch_command(const SweepPlan& plan, const SweepLayout& layout,
                                        const std::vector<int>& indices);

// Runs the sbatch command, records the submission and returns the Slurm job id. Throws
// std::runtime_error with sbatch's message when it fails or is not installed.
std::string submit_sweep(const SweepPlan& plan, const SweepLayout& layout, const std::vector<int>& indices);

// Scheduler states per sweep job index, from the sweep's submissions.
struct SlurmView {
    bool queue_known = false;               // squeue answered
    std::map<int, std::string> queue;       // index → squeue %T (only jobs in the queue)
    std::map<int, std::string> accounting;  // index → sacct State (only when accounting answers)
    std::map<int, bool> submitted;          // index → part of a submission
};
SlurmView query_slurm(const SweepLayout& layout);

}  // namespace lorica::cli
