#pragma once
// Value types of the store's run listing (RunStore::list_run_page): one row per run with its final
// accuracy, a page of them, and which page to read.
//
// Purpose: `lorica-cli runs` and run tables list thousands of runs; the listing reads them, and each
// finished run's final class-IL accuracy, in ONE SQL query (no query per run) over indexed columns
// (schema v5), newest first, a page at a time.
//
// Final accuracy (class-IL, percent): T = the last stream task with an end-of-task class-IL accuracy
// (eval rows with phase end_of_task, head class_il, total > 0, after_task and eval_task ≥ 0);
// acc = mean over j = 0..T of 100·correct/total of cell (T, j), the latest row of a cell winning; no
// value when a cell of row T is missing. This is metrics.h's `final_accuracy` of the run's class-IL
// accuracy matrix (AccuracyMatrix::from_eval_rows), computed in SQL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/vocabulary/events.h"

namespace lorica {

// One run as the listing shows it (the run's big text fields — config, notes, message — left out).
struct RunSummary {
    int64_t id = 0;
    std::string uuid;
    int64_t experiment_id = 0;  // 0 when the run belongs to no experiment
    int run_index = 0;
    int64_t seed = 0;
    std::string method;
    std::string variant;  // "" when the experiment has no variants
    int variant_index = 0;
    RunStatus status = RunStatus::running;
    std::string started_at;  // ISO-8601 UTC
    std::string ended_at;    // "" while running
    double seconds = 0.0;    // wall time (0 until finished)
    int num_tasks = 0;
    std::optional<double> final_accuracy;  // class-IL, percent (see the file comment); none if not computable
};

// The column a listing is ordered by. Ties (and runs without a final accuracy, which come last in
// either direction) are ordered by id, newest first.
enum class RunSortKey { id, experiment, variant, seed, method, status, started, seconds, final_accuracy };

// Which runs of the filtered set a listing returns, in which order: by default newest (highest id)
// first. Sorting by final_accuracy computes it for every matching run (the other keys only for the
// page's rows), so that order costs what a listing of all matching runs costs.
struct RunPageRequest {
    int64_t limit = 50;  // at most this many runs; 0 = every matching run
    int64_t offset = 0;  // skip this many runs of the order first
    RunSortKey sort = RunSortKey::id;
    bool descending = true;
};

// One page of the listing.
struct RunPage {
    std::vector<RunSummary> runs;  // newest first
    int64_t matching = 0;          // runs that match the filter, over all pages
};

}  // namespace lorica
