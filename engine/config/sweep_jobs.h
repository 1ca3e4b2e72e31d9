#pragma once
// A sweep plan: an experiment's variants × seeds as independent jobs, one run each, so that a grid can
// run as separate processes (local workers, a Slurm job array) and be merged back into one experiment.
//
// Expansion (`plan_sweep`): the config's variants (experiment_variants.h), in their order, each crossed
// with the config's seeds, in their order: job index = variant_index × seeds + seed_index. That is the
// order in which `run_experiment` runs them in one process. A job's config is its variant's effective
// config with `seeds` narrowed to the job's seed — exactly the config its run stores in one process.
//
// The plan is written as DIR/jobs.json (`write_sweep_plan`, format_version 1):
//   {"format_version": 1, "experiment": {"uuid", "name", "config", "config_hash", "seeds", "variants",
//    "rank_sweep"}, "threads_per_job": 2, "launcher": {...launcher_settings.h...},
//    "jobs": [{"index": 0, "name": "job-0000", "variant_index": 0, "variant": "rank=4",
//              "sweep_field": "method.rank", "sweep_value": "4", "seed_index": 0, "seed": 0,
//              "config": {...full effective config...}}, ...]}
// `read_sweep_plan` validates everything (every job's config through parse_experiment_config) and
// throws ConfigError naming the file and the field ("jobs[3].config.train.epochs").
//
// File names under DIR (`SweepLayout`): shards/<job>.sqlite (the job's results database, published
// whole: written elsewhere, then VACUUM INTO <job>.sqlite.tmp and renamed), status/<job>.json (the job's
// state, see sweep_status in cli/), logs/<job>.log or logs/slurm-<array>_<index>.out, sweep.sbatch.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/config/launcher_settings.h"
#include "engine/vocabulary/events.h"

namespace lorica {

struct SweepJob {
    int index = 0;             // position in the plan = the Slurm array task id
    std::string name;          // "job-0003": stem of the job's shard, status and log files
    int variant_index = 0;     // position in the experiment's variants
    std::string variant;       // the variant's label ("" when the experiment has no variants)
    std::string sweep_field;   // "" unless the variant comes from a sweep
    std::string sweep_value;   // the sweep value as JSON text
    bool rank_varies = false;  // ExperimentVariant::rank_varies: the run stores rank-sweep points
    int seed_index = 0;        // position in the experiment's seeds (RunStarted::run_index)
    int64_t seed = 0;
    ExperimentConfig config;  // the variant's effective config, seeds = {seed}
};

struct SweepPlan {
    static constexpr int kFormatVersion = 1;
    std::string experiment_uuid;       // one experiment in the merged database
    std::string name;                  // the experiment's name
    nlohmann::json experiment_config;  // the whole experiment's effective config (variants, all seeds)
    std::vector<int64_t> seeds;
    std::vector<std::string> variants;  // labels; empty when the experiment has no variants
    bool rank_sweep = false;            // sweep over method.rank: each run also stores rank-sweep points
    int threads_per_job = 1;            // LibTorch threads of one job (CPUs per Slurm task)
    LauncherSettings launcher;
    std::vector<SweepJob> jobs;
};

// Threads of one job: launcher.cpus_per_task when > 0, else config.threads when > 0, else 1.
int threads_per_job(const ExperimentConfig& config, const LauncherSettings& launcher);

// Expands `config` (validated by parse_experiment_config) into one job per (variant, seed).
SweepPlan plan_sweep(const ExperimentConfig& config, const LauncherSettings& launcher, std::string experiment_uuid);

nlohmann::json to_json(const SweepPlan& plan);
// `source` names the document in errors (the jobs.json path).
SweepPlan sweep_plan_from_json(const nlohmann::json& document, const std::string& source);

// Writes `plan` as JSON (temporary file, then rename). Throws std::runtime_error naming the file.
void write_sweep_plan(const SweepPlan& plan, const std::string& path);
// Reads and validates a jobs.json; throws ConfigError naming the file and the field.
SweepPlan read_sweep_plan(const std::string& path);

// The ExperimentStarted every job of the plan emits: the same as run_experiment emits for the whole
// experiment in one process (name, config, hash, seeds, variant labels).
ExperimentStarted experiment_started(const SweepPlan& plan);
// The job as the variant run_experiment would run it (label, index, sweep field/value, config).
ExperimentVariant job_variant(const SweepJob& job);

// Paths of a sweep directory's files.
struct SweepLayout {
    std::string dir;
    std::string jobs_file() const;                     // DIR/jobs.json
    std::string sbatch_file() const;                   // DIR/sweep.sbatch
    std::string submissions_file() const;              // DIR/submissions.json (Slurm job ids)
    std::string shards_dir() const;                    // DIR/shards
    std::string shard(const SweepJob& job) const;      // DIR/shards/<job>.sqlite
    std::string status_dir() const;                    // DIR/status
    std::string status(const SweepJob& job) const;     // DIR/status/<job>.json
    std::string logs_dir() const;                      // DIR/logs
    std::string local_log(const SweepJob& job) const;  // DIR/logs/<job>.log
};

}  // namespace lorica
