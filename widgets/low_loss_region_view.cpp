#include "widgets/low_loss_region_view.h"

#include <algorithm>
#include <cmath>

#include <QLabel>
#include <QVBoxLayout>

#include "widgets/matrix_heatmap.h"

namespace lorica::widgets {
namespace {

// A heatmap variant of a [tasks][tasks] matrix: NaN cells blank, scale [0, max(floor, largest)].
HeatmapVariant low_loss_variant(const QString& name, const std::vector<std::vector<double>>& m, double floor) {
    HeatmapVariant v;
    v.name = name;
    v.lower = 0.0;
    v.upper = floor;
    v.higher_is_better = false;
    v.decimals = 2;
    for (const auto& row : m) {
        std::vector<std::optional<double>> cells;
        for (double value : row) {
            cells.push_back(std::isfinite(value) ? std::optional<double>(value) : std::nullopt);
            if (std::isfinite(value)) v.upper = std::max(v.upper, value);
        }
        v.cells.push_back(std::move(cells));
    }
    if (v.upper <= v.lower) v.upper = v.lower + 1.0;
    return v;
}

QString low_loss_values(const std::vector<double>& values) {
    QStringList parts;
    for (double v : values) parts << (std::isfinite(v) ? QString::number(v, 'f', 2) : QStringLiteral("–"));
    return parts.join(QStringLiteral(", "));
}

}  // namespace

LowLossRegionView::LowLossRegionView(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    summary_ = new QLabel(this);
    summary_->setObjectName(QStringLiteral("low_loss_summary"));
    summary_->setWordWrap(true);
    summary_->setContentsMargins(6, 2, 6, 0);
    layout->addWidget(summary_);
    heatmap_ = new MatrixHeatmap(tr("Low-loss region: distances between weights (Frobenius norm)"),
                                 tr("task i (continual: after task t)"), tr("task j (continual: optimum i)"), this);
    heatmap_->setObjectName(QStringLiteral("low_loss_heatmap"));
    heatmap_->set_tick_prefixes(QString(), QString());
    heatmap_->set_toggle_tooltip(
        tr("Between the tasks' optima W*_i (each task fine-tuned alone from W₀), their ratio to the mean "
           "distance to W₀, or the continual weights W_t after each task against each optimum"));
    heatmap_->set_empty_message(
        tr("No low-loss-region analysis in this run.\nSet analysis.low_loss_region = true: each task is also\n"
           "fine-tuned alone from the starting weights W₀ (LoRA or full,\nanalysis.low_loss_update), "
           "which costs one extra training per task."));
    layout->addWidget(heatmap_, 1);
    set_table({});
}

void LowLossRegionView::set_table(LowLossTable table) {
    table_ = std::move(table);
    if (table_.empty()) {
        heatmap_->set_variants({});
        summary_->clear();
        summary_->setVisible(false);
        return;
    }
    heatmap_->set_variants({low_loss_variant(tr("Optima ‖W*_i − W*_j‖"), table_.distance, 0.0),
                            low_loss_variant(tr("Ratio ‖W*_i − W*_j‖ / mean ‖W* − W₀‖"), table_.ratio, 1.0),
                            low_loss_variant(tr("Continual ‖W_t − W*_i‖"), table_.continual, 0.0)});
    summary_->setText(summary());
    summary_->setVisible(true);
}

QString LowLossRegionView::summary() const {
    if (table_.empty()) return {};
    return tr("‖W*_t − W₀‖ per task: %1.   ‖W_t − W₀‖ after each task: %2.")
        .arg(low_loss_values(table_.optimum_from_start), low_loss_values(table_.continual_from_start));
}

}  // namespace lorica::widgets
