#pragma once
// Text reports of stored runs and experiments: what `lorica-cli show` and the end of
// `lorica-cli run` print.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/eval/metrics.h"
#include "engine/store/run_store.h"

namespace lorica::cli {

// What `show` and `export-results` address: "12" = run 12, "exp:3" = experiment 3.
struct ResultsTarget {
    bool experiment = false;
    int64_t id = 0;
};
// Parses "ID" or "exp:ID"; throws std::invalid_argument with the accepted forms.
ResultsTarget parse_results_target(const std::string& text);
// The runs of a target (one run, or every run of the experiment); throws std::runtime_error naming
// the database when the run or experiment does not exist.
std::vector<int64_t> target_run_ids(const RunStore& store, const ResultsTarget& target);

// Metrics of one stored run for one head mode (matrix built from its evaluation rows).
MetricSet run_metrics(const RunStore& store, int64_t run_id, HeadMode mode);

// One run: identity, status, tasks, accuracy matrices (class-IL, task-IL), metrics, its cost, and the
// per-class forgetting of the foundation task.
std::string run_report(const RunStore& store, int64_t run_id, bool with_config);

// The `cost` section of `show RUN`: per task the inference GFLOPs per image, learnable parameters,
// stored parameters and stored features the run recorded (engine/eval/cost_table.h); "—" where a value
// was not recorded (an older database).
std::string cost_report(const RunStore& store, int64_t run_id);

// The foundation task's per-class accuracy after each task and its drop (class_forgetting.h);
// "" when the run has no per-class rows.
std::string class_forgetting_report(const RunStore& store, int64_t run_id);

// `show RUN --analysis contextual-forgetting`: per task the lost samples, the mean similarities, the
// top-10 lost classes and the two densities (engine/eval/contextual_forgetting.h: the numbers
// export-results writes). Throws std::runtime_error naming the database when the run does not exist.
std::string contextual_forgetting_report(const RunStore& store, int64_t run_id);

// `show RUN --analysis low-loss-region`: the distances between the tasks' optima, their ratio, the
// continual weights against each optimum and both distances to W₀ (engine/eval/low_loss_table.h: the
// numbers export-results writes). Throws std::runtime_error naming the database when the run does not exist.
std::string low_loss_region_report(const RunStore& store, int64_t run_id);

// Several runs (the seeds of one experiment): every metric as mean ± std.
std::string runs_summary(const RunStore& store, const std::vector<int64_t>& run_ids);

// An experiment: one row per variant (metrics mean ± std over its seeds, wall time), and the
// rank-sweep table when its runs hold rank-sweep points.
std::string experiment_report(const RunStore& store, int64_t experiment_id);

}  // namespace lorica::cli
