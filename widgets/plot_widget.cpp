#include "widgets/plot_widget.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <QFile>
#include <QFileInfo>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QTextStream>
#include <QToolButton>
#include <QVBoxLayout>

#include "widgets/curve_decimation.h"
#include "widgets/qcustomplot_include.h"

#ifdef LORICA_HAVE_QTSVG
#include <QSvgGenerator>
#endif

namespace lorica::widgets {

QColor series_color(int i) {
    // Tableau 10: distinguishable, mid-luminance colours that read on light and dark palettes.
    static const QColor colors[] = {QColor(0x4e, 0x79, 0xa7), QColor(0xf2, 0x8e, 0x2b), QColor(0xe1, 0x57, 0x59),
                                    QColor(0x76, 0xb7, 0xb2), QColor(0x59, 0xa1, 0x4f), QColor(0xed, 0xc9, 0x48),
                                    QColor(0xb0, 0x7a, 0xa1), QColor(0xff, 0x9d, 0xa7), QColor(0x9c, 0x75, 0x5f),
                                    QColor(0xba, 0xb0, 0xac)};
    const int k = i < 0 ? 0 : i / 10;
    const QColor base = colors[((i % 10) + 10) % 10];
    // Past ten series (the default experiment has 11 rank variants) the palette repeats darker, then
    // lighter, so no two series of one chart share a colour.
    if (k == 0) return base;
    return k % 2 == 1 ? base.darker(100 + 45 * ((k + 1) / 2)) : base.lighter(100 + 30 * (k / 2));
}

namespace {

const QCP::PlottingHints kScreenHints = QCP::phCacheLabels | QCP::phFastPolylines;

// Full drawing quality for the lifetime of an export (antialiased fills, joined polylines).
class ExportQuality {
public:
    explicit ExportQuality(QCustomPlot* plot) : plot_(plot) {
        plot_->setPlottingHints(QCP::phCacheLabels);
        plot_->setNotAntialiasedElements(QCP::aeNone);
    }
    ~ExportQuality() {
        plot_->setPlottingHints(kScreenHints);
        plot_->setNotAntialiasedElements(QCP::aeFills);
        plot_->replot(QCustomPlot::rpQueuedReplot);  // the export's own size may have re-decimated
    }
    ExportQuality(const ExportQuality&) = delete;
    ExportQuality& operator=(const ExportQuality&) = delete;

private:
    QCustomPlot* plot_;
};

// Axis, grid and text colours from the widget palette, so the chart follows light and dark themes.
void apply_palette(QCustomPlot* plot, const QPalette& palette) {
    const QColor text = palette.color(QPalette::WindowText);
    const QColor base = palette.color(QPalette::Base);
    QColor grid = text;
    grid.setAlpha(40);
    plot->setBackground(base);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis}) {
        axis->setBasePen(QPen(text));
        axis->setTickPen(QPen(text));
        axis->setSubTickPen(QPen(text));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->grid()->setPen(QPen(grid, 1, Qt::DotLine));
    }
    plot->legend->setBrush(base);
    plot->legend->setTextColor(text);
    plot->legend->setBorderPen(QPen(grid));
}

}  // namespace

PlotWidget::PlotWidget(const QString& title, const QString& x_label, const QString& y_label, QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->setSpacing(0);
    auto* header = new QHBoxLayout;
    title_ = new QLabel(title, this);
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    legend_button_ = new QToolButton(this);
    legend_button_->setText(tr("legend"));
    legend_button_->setCheckable(true);
    legend_button_->setChecked(true);
    legend_button_->setAutoRaise(true);
    legend_button_->setToolTip(tr("Show or fold the legend (right of the plot, never over the data)"));
    legend_button_->hide();
    auto* menu_button = new QToolButton(this);
    menu_button->setText(QStringLiteral("⋯"));
    menu_button->setToolTip(tr("Export this plot (PNG, PDF, SVG, CSV); wheel zooms, drag pans, double-click fits"));
    menu_button->setAutoRaise(true);
    header->addWidget(title_);
    header->addStretch();
    header->addWidget(legend_button_);
    header->addWidget(menu_button);
    layout->addLayout(header);

    plot_ = new QCustomPlot(this);
    plot_->setMinimumSize(240, 160);
    plot_->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom | QCP::iSelectPlottables | QCP::iSelectLegend);
    // On screen: lines as fast polylines and band fills without antialiasing — an 11-variant loss
    // chart (33 graphs, 11 translucent bands) replots in ~4 ms instead of ~25 ms (1000 × 420 px,
    // software raster). Exports draw at full quality (ExportQuality).
    plot_->setPlottingHints(kScreenHints);
    plot_->setNotAntialiasedElements(QCP::aeFills);
    plot_->xAxis->setLabel(x_label);
    plot_->yAxis->setLabel(y_label);
    plot_->legend->setVisible(false);
    QFont legend_font = font();
    legend_font.setPointSizeF(legend_font.pointSizeF() * 0.85);
    plot_->legend->setFont(legend_font);
    // The legend leaves the axis rect's inset (over the data) for a column of its own, at the top
    // (a spacer below takes the rest of the height); update_legend places the column right of the
    // axis rect.
    plot_->axisRect()->insetLayout()->take(plot_->legend);
    plot_->axisRect()->insetLayout()->simplify();
    legend_column_ = new QCPLayoutGrid;
    legend_column_->setParent(plot_);  // deleted with the plot while it is out of the layout
    legend_column_->addElement(0, 0, plot_->legend);
    legend_column_->addElement(1, 0, new QCPLayoutElement(plot_));
    legend_column_->setRowStretchFactor(0, 0.001);
    legend_column_->setRowStretchFactor(1, 1.0);
    legend_column_->setRowSpacing(0);
    apply_palette(plot_, palette());
    empty_text_ = new QCPItemText(plot_);
    empty_text_->setPositionAlignment(Qt::AlignCenter);
    empty_text_->position->setType(QCPItemPosition::ptAxisRectRatio);
    empty_text_->position->setCoords(0.5, 0.5);
    empty_text_->setColor(palette().color(QPalette::PlaceholderText));
    empty_text_->setClipToAxisRect(false);
    layout->addWidget(plot_, 1);

    plot_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(plot_, &QCustomPlot::customContextMenuRequested, this,
            [this](const QPoint& p) { show_export_menu(plot_->mapToGlobal(p)); });
    connect(menu_button, &QToolButton::clicked, this,
            [this, menu_button] { show_export_menu(menu_button->mapToGlobal(QPoint(0, menu_button->height()))); });
    connect(plot_, &QCustomPlot::mouseDoubleClick, this, [this](QMouseEvent*) { fit_all(); });
    // The user's own view: a wheel zoom, or a drag (a move with a button held) that pans.
    connect(plot_, &QCustomPlot::mouseWheel, this, [this](QWheelEvent*) { user_view_ = true; });
    connect(plot_, &QCustomPlot::mouseMove, this, [this](QMouseEvent* event) {
        if (event->buttons() & Qt::LeftButton) user_view_ = true;
    });
    connect(legend_button_, &QToolButton::toggled, this, &PlotWidget::set_legend_open);
    // After the layout (the axis rect's width for this range is known), before drawing.
    connect(plot_, &QCustomPlot::afterLayout, this, [this] { refresh_decimation(); });
    set_empty_message(tr("No data yet"));
}

void PlotWidget::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        apply_palette(plot_, palette());
        empty_text_->setColor(palette().color(QPalette::PlaceholderText));
        plot_->replot(QCustomPlot::rpQueuedReplot);
    }
}

void PlotWidget::set_title(const QString& title) { title_->setText(title); }

void PlotWidget::set_empty_message(const QString& message) {
    empty_message_ = message;
    empty_text_->setText(message);
    update_empty_state();
}

void PlotWidget::update_empty_state() {
    const bool empty = plot_->graphCount() == 0;
    empty_text_->setVisible(empty);
    update_legend();
}

void PlotWidget::update_legend() {
    const bool has_legend = plot_->graphCount() > 0 && plot_->legend->itemCount() > 1;
    const bool show = has_legend && legend_open_;
    legend_button_->setVisible(has_legend);
    QCPLayoutGrid* layout = plot_->plotLayout();
    const bool placed = legend_column_->layout() == layout;
    if (show && !placed) {
        layout->addElement(0, 1, legend_column_);
        layout->setColumnStretchFactor(1, 0.001);  // as wide as its longest name, no wider
    } else if (!show && placed) {
        layout->take(legend_column_);
        layout->simplify();
        legend_column_->setParent(plot_);
    }
    plot_->legend->setVisible(show);
}

void PlotWidget::set_legend_open(bool open) {
    if (legend_open_ == open) return;
    legend_open_ = open;
    if (legend_button_->isChecked() != open) legend_button_->setChecked(open);
    update_legend();
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

bool PlotWidget::legend_shown() const { return plot_->legend->visible() && legend_column_->layout() != nullptr; }

void PlotWidget::set_x_label(const QString& label) { plot_->xAxis->setLabel(label); }

bool PlotWidget::showing_empty_state() const { return empty_text_->visible(); }

void PlotWidget::clear() {
    plot_->clearGraphs();
    lines_.clear();
    // Remove every item but the empty-state text.
    for (int i = plot_->itemCount() - 1; i >= 0; --i)
        if (plot_->item(i) != empty_text_) plot_->removeItem(i);
    markers_ = 0;
    update_empty_state();
}

void PlotWidget::Line::extend_bounds(const double* ys, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(ys[i])) continue;
        if (!has_y) {
            y_min = y_max = ys[i];
            has_y = true;
        } else {
            y_min = std::min(y_min, ys[i]);
            y_max = std::max(y_max, ys[i]);
        }
    }
}

int PlotWidget::add_line(const QString& name, const QVector<double>& x, const QVector<double>& y, const QColor& color,
                         Qt::PenStyle style, bool points) {
    QCPGraph* graph = plot_->addGraph();
    graph->setName(name);
    graph->setPen(QPen(color, 2, style));
    if (points) graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, color, color, 5));
    Line line;
    const qsizetype n = std::min(x.size(), y.size());
    line.x.assign(x.begin(), x.begin() + n);
    line.y.assign(y.begin(), y.begin() + n);
    line.extend_bounds(line.y.data(), line.y.size());
    lines_.push_back(std::move(line));
    const int series = plot_->graphCount() - 1;
    if (lines_[series].x.size() > static_cast<std::size_t>(kPointsPerColumn * decimation_columns()))
        lines_[series].stale = true;  // decimated after the next layout, for the range finish() sets
    else
        graph->setData(x.mid(0, n), y.mid(0, n), true);
    update_empty_state();
    return series;
}

void PlotWidget::append_to_line(int series, const QVector<double>& x, const QVector<double>& y) {
    if (series < 0 || series >= static_cast<int>(lines_.size())) return;
    Line& line = lines_[series];
    const qsizetype n = std::min(x.size(), y.size());
    if (n == 0) return;
    line.x.insert(line.x.end(), x.begin(), x.begin() + n);
    line.y.insert(line.y.end(), y.begin(), y.begin() + n);
    line.extend_bounds(y.constData(), static_cast<std::size_t>(n));
    if (!line.decimated && line.x.size() <= static_cast<std::size_t>(kPointsPerColumn * decimation_columns()))
        plot_->graph(series)->addData(x.mid(0, n), y.mid(0, n), true);  // only the new points
    else
        line.stale = true;  // decimated before the next replot
}

int PlotWidget::decimation_columns() const { return std::max(64, plot_->axisRect()->width()); }

void PlotWidget::decimate_line(int series) {
    Line& line = lines_[series];
    const QCPRange range = plot_->xAxis->range();
    const double lower = range.lower, upper = range.upper;
    const CurvePoints kept = decimate_min_max(line.x, line.y, lower, upper, decimation_columns());
    QVector<QCPGraphData> data(static_cast<qsizetype>(kept.size()));
    for (std::size_t i = 0; i < kept.size(); ++i) data[static_cast<qsizetype>(i)] = QCPGraphData(kept.x[i], kept.y[i]);
    plot_->graph(series)->data()->set(data, true);
    line.decimated = kept.size() < line.x.size();
    line.stale = false;
}

void PlotWidget::refresh_decimation() {
    if (static_cast<int>(lines_.size()) != plot_->graphCount()) return;  // graphs removed behind our back
    const QCPRange range = plot_->xAxis->range();
    const int columns = decimation_columns();
    const bool moved =
        range.lower != decimated_lower_ || range.upper != decimated_upper_ || columns != decimated_columns_;
    const auto limit = static_cast<std::size_t>(kPointsPerColumn * columns);
    for (int i = 0; i < static_cast<int>(lines_.size()); ++i) {
        const Line& line = lines_[i];
        if (line.stale || (moved && (line.decimated || line.x.size() > limit))) decimate_line(i);
    }
    decimated_lower_ = range.lower;
    decimated_upper_ = range.upper;
    decimated_columns_ = columns;
}

int PlotWidget::add_band(const QString& name, const QVector<double>& x, const QVector<double>& mean,
                         const QVector<double>& std, const QColor& color) {
    QVector<double> lower(mean.size()), upper(mean.size());
    for (int i = 0; i < mean.size(); ++i) {
        lower[i] = mean[i] - (i < std.size() ? std[i] : 0.0);
        upper[i] = mean[i] + (i < std.size() ? std[i] : 0.0);
    }
    QColor fill = color;
    fill.setAlpha(60);
    QCPGraph* low = plot_->graph(add_line(name + QStringLiteral(" − std"), x, lower, color));
    low->setPen(Qt::NoPen);
    low->removeFromLegend();
    QCPGraph* high = plot_->graph(add_line(name + QStringLiteral(" + std"), x, upper, color));
    high->setPen(Qt::NoPen);
    high->setBrush(fill);
    high->setChannelFillGraph(low);
    high->removeFromLegend();
    return add_line(name, x, mean, color);
}

void PlotWidget::add_vertical_marker(double x, const QString& label) {
    auto* line = new QCPItemStraightLine(plot_);
    QColor c = palette().color(QPalette::WindowText);
    c.setAlpha(110);
    line->setPen(QPen(c, 1, Qt::DashLine));
    line->point1->setCoords(x, 0);
    line->point2->setCoords(x, 1);
    auto* text = new QCPItemText(plot_);
    text->position->setTypeX(QCPItemPosition::ptPlotCoords);
    text->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    text->position->setCoords(x, 0.0);
    text->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    text->setText(label);
    text->setColor(c);
    ++markers_;
}

void PlotWidget::set_y_range(double lower, double upper) {
    fixed_y_ = true;
    y_lower_ = lower;
    y_upper_ = upper;
    plot_->yAxis->setRange(lower, upper);  // the empty chart shows it too
}

namespace {
// Whole-number ticks whose texts may be replaced (−1 → "before the stream").
class LabelledIntegerTicker : public QCPAxisTickerFixed {
public:
    explicit LabelledIntegerTicker(QMap<double, QString> labels) : labels_(std::move(labels)) {}

protected:
    QString getTickLabel(double tick, const QLocale& locale, QChar format, int precision) override {
        for (auto it = labels_.cbegin(); it != labels_.cend(); ++it)
            if (std::abs(it.key() - tick) < 1e-9) return it.value();
        return QCPAxisTickerFixed::getTickLabel(tick, locale, format, precision);
    }

private:
    QMap<double, QString> labels_;
};
}  // namespace

void PlotWidget::set_integer_x_ticks(const QMap<double, QString>& labels) {
    auto ticker = QSharedPointer<LabelledIntegerTicker>::create(labels);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);  // 1, 2, 5, 10 ... when many tasks
    plot_->xAxis->setTicker(ticker);
}

void PlotWidget::fit_all() {
    user_view_ = false;
    finish();
}

void PlotWidget::finish() {
    update_empty_state();
    if (plot_->graphCount() > 0 && !user_view_) {
        // The bounds of every point of every line (a decimated graph may hold only the visible part).
        double x_min = std::numeric_limits<double>::infinity(), x_max = -x_min, y_min = x_min, y_max = -x_min;
        for (const Line& line : lines_) {
            if (line.x.empty()) continue;
            x_min = std::min(x_min, line.x.front());
            x_max = std::max(x_max, line.x.back());
            if (line.has_y) {
                y_min = std::min(y_min, line.y_min);
                y_max = std::max(y_max, line.y_max);
            }
        }
        if (x_min <= x_max) plot_->xAxis->setRange(x_min, x_max);
        if (y_min <= y_max) plot_->yAxis->setRange(y_min, y_max);
        if (fixed_y_) plot_->yAxis->setRange(y_lower_, y_upper_);
        const QCPRange x = plot_->xAxis->range();
        if (x.size() == 0)
            plot_->xAxis->setRange(x.lower - 0.5, x.upper + 0.5);
        else
            plot_->xAxis->setRange(x.lower - 0.02 * x.size(), x.upper + 0.02 * x.size());
        const QCPRange y = plot_->yAxis->range();
        if (!fixed_y_) plot_->yAxis->setRange(y.lower - 0.05 * y.size() - 1e-9, y.upper + 0.05 * y.size() + 1e-9);
    }
    plot_->replot(QCustomPlot::rpQueuedReplot);
}

int PlotWidget::series_count() const { return plot_->graphCount(); }
int PlotWidget::point_count(int series) const {
    return series >= 0 && series < static_cast<int>(lines_.size()) ? static_cast<int>(lines_[series].x.size())
                                                                   : plot_->graph(series)->data()->size();
}
int PlotWidget::plotted_count(int series) const { return plot_->graph(series)->data()->size(); }
QString PlotWidget::series_name(int series) const { return plot_->graph(series)->name(); }

bool PlotWidget::export_png(const QString& path, int width, int height) {
    ExportQuality quality(plot_);
    return plot_->savePng(path, width, height, 2.0);
}

bool PlotWidget::export_pdf(const QString& path) {
    ExportQuality quality(plot_);
    return plot_->savePdf(path);
}

bool PlotWidget::svg_supported() {
#ifdef LORICA_HAVE_QTSVG
    return true;
#else
    return false;
#endif
}

bool PlotWidget::export_svg(const QString& path) {
#ifdef LORICA_HAVE_QTSVG
    const int w = plot_->width(), h = plot_->height();
    QSvgGenerator generator;
    generator.setFileName(path);
    generator.setSize(QSize(w, h));
    generator.setViewBox(QRect(0, 0, w, h));
    generator.setTitle(title_->text());
    ExportQuality quality(plot_);
    QCPPainter painter;
    if (!painter.begin(&generator)) return false;
    plot_->toPainter(&painter, w, h);
    painter.end();
    return QFile::exists(path) && QFileInfo(path).size() > 0;
#else
    Q_UNUSED(path);
    return false;
#endif
}

bool PlotWidget::export_csv(const QString& path) const {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    QTextStream out(&file);
    out << "series,x,y\n";
    for (int g = 0; g < plot_->graphCount(); ++g) {
        QString name = plot_->graph(g)->name();
        if (name.contains(',') || name.contains('"')) name = '"' + name.replace('"', "\"\"") + '"';
        // Every point the series holds, not the decimation on screen.
        if (g < static_cast<int>(lines_.size())) {
            const Line& line = lines_[g];
            for (std::size_t i = 0; i < line.x.size(); ++i)
                out << name << ',' << QString::number(line.x[i], 'g', 10) << ',' << QString::number(line.y[i], 'g', 10)
                    << '\n';
            continue;
        }
        for (auto it = plot_->graph(g)->data()->constBegin(); it != plot_->graph(g)->data()->constEnd(); ++it)
            out << name << ',' << QString::number(it->key, 'g', 10) << ',' << QString::number(it->value, 'g', 10)
                << '\n';
    }
    // Colour maps (heatmaps): one series per row, x = column, y = the cell value (absent cells skipped).
    for (int p = 0; p < plot_->plottableCount(); ++p) {
        auto* map = qobject_cast<QCPColorMap*>(plot_->plottable(p));
        if (!map) continue;
        for (int row = 0; row < map->data()->valueSize(); ++row)
            for (int column = 0; column < map->data()->keySize(); ++column) {
                const double value = map->data()->cell(column, row);
                if (std::isnan(value)) continue;
                out << "row " << row << ',' << column << ',' << QString::number(value, 'g', 10) << '\n';
            }
    }
    return out.status() == QTextStream::Ok;
}

void PlotWidget::show_export_menu(const QPoint& global_position) {
    QMenu menu(this);
    const QString base = title_->text().isEmpty() ? QStringLiteral("plot") : title_->text().toLower().replace(' ', '-');
    auto ask = [this, &base](const QString& suffix, const QString& filter) {
        return QFileDialog::getSaveFileName(this, tr("Export plot"), base + suffix, filter);
    };
    menu.addAction(tr("Fit all data"), this, [this] { fit_all(); });
    menu.addSeparator();
    menu.addAction(tr("Export PNG…"), this, [=, this] {
        if (QString p = ask(".png", tr("PNG image (*.png)")); !p.isEmpty()) export_png(p);
    });
    menu.addAction(tr("Export PDF…"), this, [=, this] {
        if (QString p = ask(".pdf", tr("PDF document (*.pdf)")); !p.isEmpty()) export_pdf(p);
    });
    QAction* svg = menu.addAction(tr("Export SVG…"), this, [=, this] {
        if (QString p = ask(".svg", tr("SVG image (*.svg)")); !p.isEmpty()) export_svg(p);
    });
    svg->setEnabled(svg_supported());
    menu.addAction(tr("Export data as CSV…"), this, [=, this] {
        if (QString p = ask(".csv", tr("CSV (*.csv)")); !p.isEmpty()) export_csv(p);
    });
    menu.exec(global_position);
}

}  // namespace lorica::widgets
