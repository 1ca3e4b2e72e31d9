#pragma once
// An experiment: the config run once per variant and seed (ExperimentStarted, then for every variant
// (engine/config/experiment_variants.h) one run per seed of that variant, then ExperimentFinished).
// An experiment without variants is one unlabelled variant. The raw data set is loaded once, and again
// only for a variant whose data section differs from the previous one's. A failed run does not stop
// the others; a cancel stops the experiment.
//
// Each RunStarted carries its variant's label, index and sweep field/value. For a sweep over
// method.rank, every finished run also emits the rank-sweep points (engine/store/sweep_summary.h,
// AnalysisKey::rank_sweep) just before its RunFinished, so they are stored with the run.

#include <memory>

#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/event_listener.h"

namespace lorica {

struct PreloadedData;  // engine/services/preloaded_data.h

// Returns the experiment's status: finished when every run finished, failed when any failed,
// cancelled when cancelled. Never throws for training errors (they are reported as events);
// data-set errors before a variant's first run are reported as a failed run of its first seed.
// `preloaded`: the data set preflight loaded for the first variant (preflight.h); used instead of
// loading the same data again when its key matches.
RunStatus run_experiment(const ExperimentConfig& config, EventListener& events, CancelToken& cancel,
                         std::shared_ptr<const PreloadedData> preloaded = nullptr);

// One run of an experiment, as a sweep job runs it (engine/config/sweep_jobs.h): `experiment` (the
// whole experiment's ExperimentStarted), then the run of `variant` for its one seed
// (variant.config.seeds = {seed}; `seed_index` = that seed's position in the experiment's seeds) —
// with the same events run_experiment emits for that run (variant tags, run_index = seed_index,
// rank-sweep points when `rank_sweep`) —, then ExperimentFinished.
// `threads`: LibTorch intra-op threads (a job's CPU share; 0 = variant.config.threads). Returns the
// run's status; never throws for training or data errors (they are reported as a failed run).
RunStatus run_experiment_job(const ExperimentStarted& experiment, const ExperimentVariant& variant, int seed_index,
                             bool rank_sweep, int threads, EventListener& events, CancelToken& cancel);

}  // namespace lorica
