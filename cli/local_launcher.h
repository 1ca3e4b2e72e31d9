#pragma once
// The local launcher of `lorica-cli sweep`: a sweep's jobs as worker processes on this machine, each
// `lorica-cli run --job DIR/jobs.json --index I` (cli/job_command.h) with its output in
// DIR/logs/<job>.log, at most `workers` at a time, in index order. SIGINT/SIGTERM to the sweep are
// passed on to the running workers as SIGTERM (each then stores its run as cancelled) and no further
// job is started.

#include <string>
#include <vector>

#include "engine/config/sweep_jobs.h"

namespace lorica::cli {

// Worker processes by default: cores ÷ threads per job, at least 1, at most the number of jobs.
int default_local_workers(const SweepPlan& plan, int jobs);

// Runs `indices` of `plan` (DIR = layout.dir). `dry_run`: prints the command lines only. Returns the
// number of jobs that did not finish (exit code ≠ 0).
int run_local_jobs(const SweepPlan& plan, const SweepLayout& layout, const std::vector<int>& indices, int workers,
                   const std::string& cli_path, bool dry_run);

}  // namespace lorica::cli
