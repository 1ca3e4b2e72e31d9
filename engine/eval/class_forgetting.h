#pragma once
// Per-class forgetting of the foundation task ("contextual forgetting", /work/shared/methods.md):
// which of the foundation task's classes a run lost after each stream task.
//
// From a run's per-class evaluation rows (ClassEvalRow, eval_task == kFoundationTask, one group per
// end-of-task evaluation; after_task −1 = before the stream):
//   accuracy[c][t]  = 100 · correct / total of class c after stream task t (t = 0..T), percent
//   pre[c]          = the same before the stream (the pre-trained value)
//   drop[c][t]      = pre[c] − accuracy[c][t], percentage points (positive = lost)
//   newly_wrong[c][t] = samples of class c correct after task t−1 (before the stream for t = 0) and
//                     wrong after task t; −1 where not recorded
//   lost_since_start[c][t] = samples of class c correct before the stream and wrong after task t
//                     (the "newly wrong" of contextual_forgetting.h); −1 where not recorded
// T = the last after_task present. When one after_task has several groups, the later rows win.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/vocabulary/events.h"

namespace lorica {

struct ClassForgettingRow {
    int class_id = 0;                             // original data-set label
    std::string class_name;                       // e.g. "Sandal"; the id as text when unknown
    std::optional<double> pre;                    // accuracy before the stream, percent
    std::vector<std::optional<double>> accuracy;  // [tasks]: after task t, percent; nullopt = not evaluated
    std::vector<std::optional<double>> drop;      // [tasks]: pre − accuracy[t]; nullopt when either is missing
    std::vector<int64_t> newly_wrong;             // [tasks]: samples lost at task t; −1 = not recorded
    std::vector<int64_t> lost_since_start;        // [tasks]: lost since before the stream; −1 = not recorded
    int64_t samples = 0;                          // test samples of the class (from the latest row)
};

struct ClassForgettingTable {
    int tasks = 0;                         // T + 1 columns after the pre-stream one
    std::vector<ClassForgettingRow> rows;  // one per foundation class, by class id

    bool empty() const { return rows.empty(); }
};

// Builds the table from `rows` (other eval tasks are ignored). `class_names[c]` names class id c.
ClassForgettingTable foundation_class_forgetting(const std::vector<ClassEvalRow>& rows,
                                                 const std::vector<std::string>& class_names = {});

// Text table: class, pre-stream accuracy, then per task "accuracy (−drop)", the final drop, and, when
// recorded, the newly misclassified samples per task ("lost t0 / t1 / ...") and the samples lost since
// before the stream after the last task.
std::string format_class_forgetting(const ClassForgettingTable& table);

}  // namespace lorica
