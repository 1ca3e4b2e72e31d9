#pragma once
// Text reports of stored runs: what `lorica-cli show` and the end of `lorica-cli run` print.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/eval/metrics.h"
#include "engine/store/run_store.h"

namespace lorica::cli {

// Metrics of one stored run for one head mode (matrix built from its evaluation rows).
MetricSet run_metrics(const RunStore& store, int64_t run_id, HeadMode mode);

// One run: identity, status, tasks, accuracy matrices (class-IL, task-IL) and metrics.
std::string run_report(const RunStore& store, int64_t run_id, bool with_config);

// Several runs (the seeds of one experiment): one line per run, then every metric as mean ± std.
std::string runs_summary(const RunStore& store, const std::vector<int64_t>& run_ids);

}  // namespace lorica::cli
