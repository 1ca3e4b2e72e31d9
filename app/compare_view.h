#pragma once
// CompareView: two or more stored runs side by side — overlaid loss and Acc(t) curves, one accuracy
// matrix per run next to each other, the metrics table with one column per run (metrics, then the
// cost rows: GFLOPs/img, learnable, stored params, stored features), and the merge interpolation of
// every run that has one (SD-LoRA next to LoRA).

#include <vector>

#include <QWidget>

#include "app/run_data.h"

class QHBoxLayout;

namespace lorica::widgets {
class PlotWidget;
class MatrixHeatmap;
class MetricsTable;
}  // namespace lorica::widgets

namespace lorica::app {

class InterpolationView;

class CompareView : public QWidget {
    Q_OBJECT
public:
    explicit CompareView(QWidget* parent = nullptr);

    void show_runs(std::vector<RunData> runs);
    int run_count() const { return static_cast<int>(runs_.size()); }
    widgets::PlotWidget* loss() const { return loss_; }
    widgets::PlotWidget* accuracy_after_task() const { return acc_; }
    widgets::MetricsTable* metrics() const { return metrics_; }
    int matrix_count() const { return static_cast<int>(matrices_.size()); }

private:
    std::vector<RunData> runs_;
    widgets::PlotWidget* loss_ = nullptr;
    widgets::PlotWidget* acc_ = nullptr;
    widgets::MetricsTable* metrics_ = nullptr;
    QHBoxLayout* matrix_row_ = nullptr;
    std::vector<widgets::MatrixHeatmap*> matrices_;
    InterpolationView* interpolation_ = nullptr;
};

}  // namespace lorica::app
