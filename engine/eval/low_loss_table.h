#pragma once
// The low-loss-region analysis read back from a run's analysis points (engine/train/low_loss_region.h
// writes them; analysis_keys.h documents the keys): one function for the CLI (`show --analysis
// low-loss-region`), the export (results_export.h) and the GUI (widgets/low_loss_region_view.h).
//
// For n = 1 + the highest task index in the points:
//   distance[i][j]          ‖W*_i − W*_j‖_F  (AnalysisKey::low_loss_region, series task(i), x = j)
//   ratio[i][j]             distance[i][j] / mean(‖W*_i − W₀‖_F, ‖W*_j − W₀‖_F)   (low_loss_ratio)
//   optimum_from_start[i]   ‖W*_i − W₀‖_F    (low_loss_region, series from_start, x = i)
//   continual[t][i]         ‖W_t − W*_i‖_F   for the continual weights after task t (low_loss_continual,
//                           series task(i), x = t)
//   continual_from_start[t] ‖W_t − W₀‖_F    (low_loss_continual, series from_start, x = t)
// Cells without a point are NaN (a run still going, or a ratio whose optima did not move). Points
// of other analyses are ignored; a later point for the same cell wins.

#include <string>
#include <vector>

#include "engine/vocabulary/events.h"

namespace lorica {

struct LowLossTable {
    int tasks = 0;
    std::vector<std::vector<double>> distance;   // [tasks][tasks]
    std::vector<std::vector<double>> ratio;      // [tasks][tasks]
    std::vector<double> optimum_from_start;      // [tasks]
    std::vector<std::vector<double>> continual;  // [tasks (after task t)][tasks (optimum i)]
    std::vector<double> continual_from_start;    // [tasks]

    bool empty() const { return tasks == 0; }
};

LowLossTable low_loss_table(const std::vector<AnalysisPoint>& points);

// Whether `key` is one of the analysis's keys (low_loss_region, low_loss_ratio, low_loss_continual).
bool is_low_loss_key(AnalysisKey key);

// The three matrices and the two distances to W₀ as text tables (two decimals); a line saying how to
// turn the analysis on when the table is empty.
std::string format_low_loss_table(const LowLossTable& table);

}  // namespace lorica
