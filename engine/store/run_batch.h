#pragma once
// RunBatch: the rows of one run that `RunStore::append` (run_store.h) writes together in one
// transaction, all or nothing; StoreListener (store_listener.h) fills one from the trainer's events
// and flushes it.
//
// Invariant: `artifact_times` is parallel to `artifacts` (created_at of each, ISO-8601 UTC); a missing
// or empty entry means "now" at write time.

#include <cstddef>
#include <string>
#include <vector>

#include "engine/vocabulary/events.h"

namespace lorica {

// Rows of one run, written together in one transaction by `RunStore::append` (the listener's buffer).
struct RunBatch {
    std::vector<TaskStarted> task_starts;  // update tasks.planned_steps / trainable_parameters
    std::vector<TaskFinished> task_ends;   // update tasks.seconds
    std::vector<StepMetrics> steps;
    std::vector<EvalRow> eval_rows;
    std::vector<ClassEvalRow> class_rows;
    std::vector<MethodState> method_states;  // one row per value
    std::vector<AnalysisPoint> analysis_points;
    std::vector<ArtifactWritten> artifacts;
    std::vector<std::string> artifact_times;  // created_at of each artifact (same length); now if missing

    // Number of database rows the batch writes (a MethodState counts one row per value).
    std::size_t rows() const;
    bool empty() const { return rows() == 0; }
    void clear();
};

}  // namespace lorica
