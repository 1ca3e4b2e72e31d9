#pragma once
// LowLossRegionView: the low-loss-region analysis (SD-LoRA's Finding 1; engine/eval/low_loss_table.h)
// of one run as a heatmap with three variants (the toggle above it):
//
//   optima      ‖W*_i − W*_j‖_F        row = task i, column = task j (each task fine-tuned alone from W₀)
//   ratio       ‖W*_i − W*_j‖_F / mean(‖W*_i − W₀‖_F, ‖W*_j − W₀‖_F)   colour scale [0, max(1, largest)]
//   continual   ‖W_t − W*_i‖_F         row = after task t, column = optimum i
//
// and a summary line with ‖W*_t − W₀‖_F and ‖W_t − W₀‖_F per task. Smaller is drawn lighter. Without
// points it says how to turn the analysis on. It draws the numbers it is given; `lorica-cli show
// --analysis low-loss-region` and the export print the same ones. GUI thread only.

#include <QString>
#include <QWidget>

#include "engine/eval/low_loss_table.h"

class QLabel;

namespace lorica::widgets {

class MatrixHeatmap;

class LowLossRegionView : public QWidget {
    Q_OBJECT
public:
    explicit LowLossRegionView(QWidget* parent = nullptr);

    // Shows `table` (the selected variant stays selected).
    void set_table(LowLossTable table);

    const LowLossTable& table() const { return table_; }
    MatrixHeatmap* heatmap() const { return heatmap_; }
    QString summary() const;

private:
    LowLossTable table_;
    MatrixHeatmap* heatmap_ = nullptr;
    QLabel* summary_ = nullptr;
};

}  // namespace lorica::widgets
