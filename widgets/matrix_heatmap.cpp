#include "widgets/matrix_heatmap.h"

#include <cmath>
#include <limits>

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QVBoxLayout>

#include "widgets/plot_widget.h"
#include "widgets/qcustomplot_include.h"

namespace lorica::widgets {

MatrixHeatmap::MatrixHeatmap(const QString& title, const QString& row_label, const QString& column_label,
                             QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* bar = new QHBoxLayout;
    toggle_label_ = new QLabel(tr("Show:"), this);
    bar->addWidget(toggle_label_);
    toggle_ = new QComboBox(this);
    toggle_->setToolTip(tr("Accuracy R[t][j], or forgetting max_{t'≤t} R[t'][j] − R[t][j] (positive = forgot)"));
    bar->addWidget(toggle_, 1);
    layout->addLayout(bar);
    plot_ = new PlotWidget(title, column_label, row_label, this);
    layout->addWidget(plot_, 1);
    plot_->plot()->yAxis->setRangeReversed(true);
    connect(toggle_, &QComboBox::currentIndexChanged, this, [this](int) { redraw(); });
    set_empty_message(tr("No evaluations yet"));
}

void MatrixHeatmap::set_empty_message(const QString& message) {
    empty_message_ = message;
    if (filled_cells() == 0) plot_->set_empty_message(message);
}

void MatrixHeatmap::set_variants(std::vector<HeatmapVariant> variants, const QStringList& row_names,
                                 const QStringList& column_names) {
    const int keep = toggle_->currentIndex();
    variants_ = std::move(variants);
    row_names_ = row_names;
    column_names_ = column_names;
    const QSignalBlocker block(toggle_);
    toggle_->clear();
    for (const auto& v : variants_) toggle_->addItem(v.name);
    toggle_->setCurrentIndex(keep >= 0 && keep < toggle_->count() ? keep : 0);
    toggle_->setVisible(variants_.size() > 1);
    toggle_label_->setVisible(variants_.size() > 1);
    redraw();
}

void MatrixHeatmap::set_toggle_tooltip(const QString& tooltip) { toggle_->setToolTip(tooltip); }

void MatrixHeatmap::set_tick_prefixes(const QString& row_prefix, const QString& column_prefix) {
    row_prefix_ = row_prefix;
    column_prefix_ = column_prefix;
    redraw();
}

bool MatrixHeatmap::toggle_shown() const { return !toggle_->isHidden(); }

void MatrixHeatmap::select_variant(int index) { toggle_->setCurrentIndex(index); }
int MatrixHeatmap::current_variant() const { return toggle_->currentIndex(); }

int MatrixHeatmap::filled_cells() const {
    const int v = current_variant();
    if (v < 0 || v >= variant_count()) return 0;
    int n = 0;
    for (const auto& row : variants_[v].cells)
        for (const auto& cell : row) n += cell.has_value();
    return n;
}

void MatrixHeatmap::redraw() {
    QCustomPlot* plot = plot_->plot();
    plot_->clear();
    plot->clearPlottables();
    const int v = current_variant();
    if (v < 0 || v >= variant_count() || variants_[v].cells.empty()) {
        plot_->set_empty_message(empty_message_);
        plot_->finish();
        return;
    }
    const HeatmapVariant& variant = variants_[v];
    const int rows = static_cast<int>(variant.cells.size());
    int columns = 0;
    for (const auto& row : variant.cells) columns = std::max(columns, static_cast<int>(row.size()));
    if (columns == 0) {
        plot_->set_empty_message(empty_message_);
        plot_->finish();
        return;
    }

    auto* map = new QCPColorMap(plot->xAxis, plot->yAxis);
    map->data()->setSize(columns, rows);
    map->data()->setRange(QCPRange(0, columns - 1), QCPRange(0, rows - 1));
    QCPColorGradient gradient(QCPColorGradient::gpThermal);
    if (!variant.higher_is_better) gradient = gradient.inverted();  // thermal: high values light
    gradient.setNanHandling(QCPColorGradient::nhTransparent);
    map->setGradient(gradient);
    map->setDataRange(QCPRange(variant.lower, variant.upper));
    map->setInterpolate(false);
    map->setName(variant.name);

    // The values, written into the cells in a colour that contrasts with the cell.
    for (int t = 0; t < rows; ++t)
        for (int j = 0; j < columns; ++j) {
            const auto& row = variant.cells[t];
            const std::optional<double> cell = j < static_cast<int>(row.size()) ? row[j] : std::nullopt;
            map->data()->setCell(j, t, cell ? *cell : std::numeric_limits<double>::quiet_NaN());
            if (!cell) continue;
            const QColor fill = QColor::fromRgb(gradient.color(*cell, map->dataRange()));
            auto* text = new QCPItemText(plot);
            text->position->setCoords(j, t);
            text->setPositionAlignment(Qt::AlignCenter);
            text->setText(QString::number(*cell, 'f', variant.decimals));
            text->setColor(fill.lightnessF() > 0.55 ? Qt::black : Qt::white);
        }

    auto ticks = [](QCPAxis* axis, int n, const QStringList& names, const QString& prefix) {
        QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
        for (int i = 0; i < n; ++i) ticker->addTick(i, i < names.size() ? names[i] : prefix + QString::number(i));
        axis->setTicker(ticker);
        axis->setRange(-0.5, n - 0.5);
        axis->grid()->setVisible(false);
    };
    ticks(plot->xAxis, columns, column_names_, column_prefix_);
    ticks(plot->yAxis, rows, row_names_, row_prefix_);
    // The colour map is no QCPGraph: keep PlotWidget's empty state off by hand.
    plot_->set_empty_message(QString());
    plot->replot(QCustomPlot::rpQueuedReplot);
}

}  // namespace lorica::widgets
