#pragma once
// The low-loss-region analysis's part of the results export (results_export.h): three CSV tables and
// the run's "low_loss_region" JSON object, from its LowLossTable (engine/eval/low_loss_table.h).
//
//   low_loss_region      run_id, task_i, task_j, distance, ratio
//                        ‖W*_i − W*_j‖_F and its ratio to mean(‖W*_i − W₀‖_F, ‖W*_j − W₀‖_F)
//   low_loss_continual   run_id, after_task, optimum_task, distance      ‖W_t − W*_i‖_F
//   low_loss_from_start  run_id, task, optimum_distance, continual_distance
//                        ‖W*_task − W₀‖_F and ‖W_task − W₀‖_F (the continual weights after the task)
// Rows only where a value was stored; an empty cell for a value that was not (a ratio without one).
// JSON: {"tasks": n, "distance": [n][n], "ratio": [n][n], "continual": [n][n] (row = after task t),
//        "optimum_from_start": [n], "continual_from_start": [n]}, null where not stored.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/eval/low_loss_table.h"
#include "engine/store/results_export.h"

namespace lorica {

struct LowLossTables {
    CsvTable pairs{"low_loss_region", {"run_id", "task_i", "task_j", "distance", "ratio"}, {}};
    CsvTable continual{"low_loss_continual", {"run_id", "after_task", "optimum_task", "distance"}, {}};
    CsvTable from_start{"low_loss_from_start", {"run_id", "task", "optimum_distance", "continual_distance"}, {}};

    std::vector<CsvTable> all() const { return {pairs, continual, from_start}; }
};

// Appends run `run_id`'s rows to `tables` and returns its JSON object.
nlohmann::json append_low_loss_rows(LowLossTables& tables, const std::string& run_id, const LowLossTable& table);

}  // namespace lorica
