// Plots under QtTest (QT_QPA_PLATFORM=offscreen): min/max decimation of long curves to the pixel
// columns shown (spikes kept), append-only series (appending equals setting everything at once), and
// the live loss view growing by appends instead of rebuilds, the user's zoom kept through live
// updates, legends outside the data, multi-pass runs on a shared step axis, and the foundation
// classes' first point labelled "before the stream".

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <QApplication>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest>

#include "app/run_data.h"
#include "app/run_views.h"
#include "widgets/curve_decimation.h"
#include "widgets/plot_widget.h"
#include "widgets/qcustomplot_include.h"

using namespace lorica;
using namespace lorica::app;

namespace {

using Points = std::vector<std::pair<double, double>>;

// What the chart holds for series `series` (after its pending replot).
Points plotted(const widgets::PlotWidget& plot, int series) {
    Points out;
    const auto data = plot.plot()->graph(series)->data();
    for (auto it = data->constBegin(); it != data->constEnd(); ++it) out.emplace_back(it->key, it->value);
    return out;
}

// Column of x in decimate_min_max's partition of [lower, upper] into `columns` (column_end).
int column_of(double x, double lower, double upper, int columns) {
    for (int c = 0; c < columns - 1; ++c)
        if (x < widgets::column_end(lower, upper, columns, c)) return c;
    return columns - 1;
}

// A smooth curve of n points (x = 0 … n−1) with known spikes.
struct SpikyCurve {
    QVector<double> x, y;
    std::vector<std::pair<int, double>> spikes = {{123457, 25.0}, {500000, -18.0}, {777777, 40.0}, {999998, -30.0}};
    explicit SpikyCurve(int n) : x(n), y(n) {
        for (int i = 0; i < n; ++i) {
            x[i] = i;
            y[i] = 2.0 + std::sin(i * 1e-4) + 0.25 * std::sin(i * 0.37);
        }
        spikes.erase(std::remove_if(spikes.begin(), spikes.end(), [n](const auto& s) { return s.first >= n; }),
                     spikes.end());
        spikes.emplace_back(n / 3, 9.0);  // a spike every curve has
        for (const auto& [i, v] : spikes) y[i] = v;
    }
};

void render(widgets::PlotWidget& plot) {
    plot.finish();
    plot.plot()->replot();  // what the queued replot does, now
}

}  // namespace

class GuiPlotTests : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void decimation_keeps_each_columns_first_min_max_last() {
        // 12 points in 3 columns of [0, 12): hand-checked picks.
        const std::vector<double> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        const std::vector<double> y = {5, 9, 1, 4, 7, 7, 7, 7, 2, 8, 0, 3};
        // Below 4 points per column the curve comes back whole.
        QCOMPARE(widgets::decimate_min_max(x, y, 0, 12, 3).size(), std::size_t(12));
        const widgets::CurvePoints two = widgets::decimate_min_max(x, y, 0, 12, 2);  // columns [0,6) and [6,12)
        // Column 0: first (0,5), max (1,9), min (2,1), last (5,7). Column 1: first (6,7), min (10,0),
        // max (9,8), last (11,3) — in x order.
        QCOMPARE(two.x, (std::vector<double>{0, 1, 2, 5, 6, 9, 10, 11}));
        QCOMPARE(two.y, (std::vector<double>{5, 9, 1, 7, 7, 8, 0, 3}));
        // A visible window keeps one point outside on each side, so the line reaches the edges.
        const widgets::CurvePoints window = widgets::decimate_min_max(x, y, 3.5, 8.5, 1);
        QCOMPARE(window.x.front(), 3.0);
        QCOMPARE(window.x.back(), 9.0);
        // Visible 4..8 (5 points, 1 column): first 4, min 8 (2), max 4 (7, first of the ties), last 8.
        QCOMPARE(window.x, (std::vector<double>{3, 4, 8, 9}));
        // A NaN in a column survives as one gap point.
        std::vector<double> gap = y;
        gap[3] = std::numeric_limits<double>::quiet_NaN();
        const widgets::CurvePoints with_gap = widgets::decimate_min_max(x, gap, 0, 12, 2);
        QVERIFY(std::any_of(with_gap.y.begin(), with_gap.y.end(), [](double v) { return std::isnan(v); }));
    }

    void million_point_curve_hands_the_plot_a_few_points_per_column_with_every_min_and_max() {
        const int n = 1000000;
        const SpikyCurve curve(n);
        widgets::PlotWidget plot("loss", "step", "loss");
        plot.resize(800, 400);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        plot.add_line("loss", curve.x, curve.y, widgets::series_color(0));
        render(plot);
        const int columns = plot.decimation_columns();
        QVERIFY(columns <= plot.width());
        QCOMPARE(plot.point_count(0), n);  // the series keeps every point (CSV export)
        const Points shown = plotted(plot, 0);
        QVERIFY2(static_cast<int>(shown.size()) <= widgets::kPointsPerColumn * columns + 2,
                 qPrintable(QString("%1 points for %2 columns").arg(shown.size()).arg(columns)));
        QVERIFY(static_cast<int>(shown.size()) <= 5 * plot.width());
        QVERIFY(shown.size() >= static_cast<std::size_t>(columns));  // not thinned below one per column
        // Each column's min and max over all n points is among the points shown.
        const QCPRange range = plot.plot()->xAxis->range();
        std::vector<double> low(columns, std::numeric_limits<double>::infinity()), high(columns, -low[0]);
        std::vector<double> shown_low = low, shown_high = high;
        for (int i = 0; i < n; ++i) {
            if (curve.x[i] < range.lower || curve.x[i] > range.upper) continue;
            const int c = column_of(curve.x[i], range.lower, range.upper, columns);
            low[c] = std::min(low[c], curve.y[i]);
            high[c] = std::max(high[c], curve.y[i]);
        }
        for (const auto& [px, py] : shown) {
            if (px < range.lower || px > range.upper) continue;
            const int c = column_of(px, range.lower, range.upper, columns);
            shown_low[c] = std::min(shown_low[c], py);
            shown_high[c] = std::max(shown_high[c], py);
        }
        QCOMPARE(shown_low, low);
        QCOMPARE(shown_high, high);
        for (const auto& [i, v] : curve.spikes)
            QVERIFY2(std::find(shown.begin(), shown.end(), std::pair<double, double>(i, v)) != shown.end(),
                     qPrintable(QString("spike at %1 lost").arg(i)));
        // Zoomed into a window, the decimation follows: the window's points, still a few per column.
        plot.plot()->xAxis->setRange(400000, 410000);
        plot.plot()->replot();
        const Points zoomed = plotted(plot, 0);
        QVERIFY(static_cast<int>(zoomed.size()) <= widgets::kPointsPerColumn * plot.decimation_columns() + 2);
        QVERIFY(zoomed.front().first >= 399999 - 1 && zoomed.back().first <= 410001);
        // Every point ships in the CSV export.
        QTemporaryDir dir;
        QVERIFY(plot.export_csv(dir.filePath("loss.csv")));
        QFile csv(dir.filePath("loss.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly));
        QCOMPARE(csv.readAll().count('\n'), n + 1);
    }

    void appending_equals_setting_all_points_at_once() {
        // Short (drawn whole, appends go to the graph) and long (decimated) curves, lines and bands.
        for (const int total : {300, 200000}) {
            const SpikyCurve curve(total);
            const int first = total * 2 / 3;
            widgets::PlotWidget at_once("a", "x", "y"), appended("b", "x", "y");
            for (widgets::PlotWidget* p : {&at_once, &appended}) {
                p->resize(700, 300);
                p->show();
                QVERIFY(QTest::qWaitForWindowExposed(p));
            }
            at_once.add_line("curve", curve.x, curve.y, widgets::series_color(0));
            appended.add_line("curve", curve.x.mid(0, first), curve.y.mid(0, first), widgets::series_color(0));
            render(appended);  // drawn once with the first part, like a live chart
            // The rest in three bursts.
            for (int begin = first; begin < total;) {
                const int end = std::min(total, begin + (total - first) / 3 + 1);
                appended.append_to_line(0, curve.x.mid(begin, end - begin), curve.y.mid(begin, end - begin));
                render(appended);
                begin = end;
            }
            render(at_once);
            QCOMPARE(appended.point_count(0), total);
            QCOMPARE(plotted(appended, 0), plotted(at_once, 0));
            QCOMPARE(appended.plot()->xAxis->range().lower, at_once.plot()->xAxis->range().lower);
            QCOMPARE(appended.plot()->xAxis->range().upper, at_once.plot()->xAxis->range().upper);
            QCOMPARE(appended.plot()->yAxis->range().lower, at_once.plot()->yAxis->range().lower);
            QCOMPARE(appended.plot()->yAxis->range().upper, at_once.plot()->yAxis->range().upper);
            if (total > 4 * at_once.decimation_columns())
                QVERIFY(at_once.plotted_count(0) < total);  // the long one is decimated ...
            else
                QCOMPARE(at_once.plotted_count(0), total);  // ... the short one whole
        }
    }

    void series_colors_stay_distinct_past_ten() {
        // The default experiment has 11 rank variants: one colour each (its colour in every view).
        QSet<QRgb> colors;
        for (int i = 0; i < 40; ++i) colors.insert(widgets::series_color(i).rgb());
        QCOMPARE(colors.size(), 40);
    }

    void live_loss_curve_grows_by_appends_and_matches_a_full_draw() {
        QWidget window;
        RunViews views(&window);
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        ExperimentData live;
        live.apply(Event{ExperimentStarted{"live", "{}", "h", {7}, {}}});
        RunStarted started;
        started.seed = 7;
        started.method = "sequential-lora";
        started.num_tasks = 2;
        live.apply(Event{started});
        auto step = [](int64_t i) {
            StepMetrics s;
            s.task = i <= 60 ? 0 : 1;
            s.step = i;
            s.loss = 2.0 / std::sqrt(static_cast<double>(i)) + (i == 77 ? 3.0 : 0.0);
            return s;
        };
        for (int64_t i = 1; i <= 40; ++i) live.apply(Event{step(i)});
        views.show(live);
        QCOMPARE(views.loss()->series_count(), 1);
        QCPGraph* graph = views.loss()->plot()->graph(0);
        QCOMPARE(views.loss()->marker_count(), 1);  // t0
        for (int64_t i = 41; i <= 100; ++i) {
            live.apply(Event{step(i)});
            if (i % 20 == 0) views.show_grown(live);
        }
        // The same graph object (appended to, not rebuilt), holding every step, with the new boundary.
        QCOMPARE(views.loss()->plot()->graph(0), graph);
        QCOMPARE(views.loss()->point_count(0), 100);
        QCOMPARE(views.loss()->marker_count(), 2);  // t0, t1
        views.loss()->plot()->replot();

        // The same data drawn from scratch (a reopened run) plots the same points.
        QWidget other;
        RunViews reopened(&other);
        other.resize(900, 600);
        other.show();
        QVERIFY(QTest::qWaitForWindowExposed(&other));
        const ExperimentData copy = live;
        reopened.show(copy);
        reopened.loss()->plot()->replot();
        QCOMPARE(plotted(*views.loss(), 0), plotted(*reopened.loss(), 0));
        QCOMPARE(views.loss()->series_name(0), reopened.loss()->series_name(0));
        QCOMPARE(views.loss()->marker_count(), reopened.loss()->marker_count());

        // A second seed turns the curve into a band: a redraw, not an append.
        started.run_index = 1;
        started.seed = 8;
        live.apply(Event{started});
        for (int64_t i = 1; i <= 10; ++i) live.apply(Event{step(i)});
        views.show_grown(live);
        QCOMPARE(views.loss()->series_count(), 3);  // mean and the band's two edges
    }

    void user_zoom_survives_appends_and_redraws_until_fit_all() {
        widgets::PlotWidget plot("loss", "step", "loss");
        plot.resize(700, 400);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        QVector<double> x, y;
        for (int i = 0; i < 100; ++i) x << i, y << 1.0 + 0.01 * i;
        plot.add_line("loss", x, y, widgets::series_color(0));
        render(plot);
        QVERIFY(!plot.user_view());
        const QCPRange fitted = plot.plot()->xAxis->range();
        // The user zooms in with the wheel, at the middle of the axis rect.
        const QPointF at = plot.plot()->axisRect()->rect().center();
        QWheelEvent wheel(at, plot.plot()->mapToGlobal(at), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier,
                          Qt::NoScrollPhase, false);
        QApplication::sendEvent(plot.plot(), &wheel);
        QVERIFY(plot.user_view());
        const QCPRange zoomed_x = plot.plot()->xAxis->range();
        const QCPRange zoomed_y = plot.plot()->yAxis->range();
        QVERIFY(zoomed_x.size() < fitted.size());
        // Live appends, and a redraw from scratch (clear → add_line → finish), keep the user's view.
        QVector<double> more_x, more_y;
        for (int i = 100; i < 200; ++i) more_x << i, more_y << 5.0;
        plot.append_to_line(0, more_x, more_y);
        render(plot);
        QVERIFY(plot.plot()->xAxis->range() == zoomed_x);
        QVERIFY(plot.plot()->yAxis->range() == zoomed_y);
        plot.clear();
        plot.add_line("loss", x + more_x, y + more_y, widgets::series_color(0));
        render(plot);
        QVERIFY(plot.plot()->xAxis->range() == zoomed_x);
        // A double-click fits every point again and lets the view follow the data.
        QTest::mouseDClick(plot.plot(), Qt::LeftButton, Qt::NoModifier, at.toPoint());
        QVERIFY(!plot.user_view());
        QVERIFY(plot.plot()->xAxis->range().upper >= 199.0);
        QVERIFY(plot.plot()->yAxis->range().upper >= 5.0);
    }

    void legend_sits_outside_the_data_and_folds() {
        widgets::PlotWidget plot("loss", "step", "loss");
        plot.resize(800, 400);
        plot.show();
        QVERIFY(QTest::qWaitForWindowExposed(&plot));
        QVector<double> x = {0, 1, 2, 3};
        for (int v = 0; v < 9; ++v)
            plot.add_line(QStringLiteral("rank=%1, 3 seeds").arg(v + 1), x, {1.0 * v, 1.0 * v, 1.0 * v, 1.0 * v},
                          widgets::series_color(v));
        render(plot);
        QVERIFY(plot.legend_shown());
        const QRect data = plot.plot()->axisRect()->rect();
        const QRect legend = plot.plot()->legend->outerRect();
        QVERIFY2(!legend.intersects(data), "the legend covers the data area");
        QVERIFY(legend.left() >= data.right());
        const int width_with_legend = data.width();
        plot.set_legend_open(false);
        render(plot);
        QVERIFY(!plot.legend_shown());
        QVERIFY(plot.plot()->axisRect()->rect().width() > width_with_legend);  // the data gets the width
        plot.set_legend_open(true);
        render(plot);
        QVERIFY(plot.legend_shown());
        // One series: no legend.
        plot.clear();
        plot.add_line("loss", x, x, widgets::series_color(0));
        render(plot);
        QVERIFY(!plot.legend_shown());
    }

    void multi_pass_runs_span_the_same_width_per_task() {
        // Two variants on one step axis: a one-pass method (100 steps planned) and LoRI-S (two passes a
        // task, 200 steps planned). Both curves end where the second task ends on the shared axis.
        QWidget window;
        RunViews views(&window);
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        ExperimentData data;
        data.apply(Event{ExperimentStarted{"mixed", "{}", "h", {0}, {"lori-d", "lori-s"}}});
        for (int variant = 0; variant < 2; ++variant) {
            RunStarted started;
            started.run_index = 0;
            started.method = variant == 0 ? "lori-d" : "lori-s";
            started.variant = started.method;
            started.variant_index = variant;
            started.num_tasks = 2;
            started.total_steps = variant == 0 ? 100 : 200;
            data.apply(Event{started});
            for (int64_t i = 1; i <= started.total_steps; ++i) {
                StepMetrics s;
                s.task = i <= started.total_steps / 2 ? 0 : 1;
                s.step = i;
                s.step_in_task = s.task == 0 ? i : i - started.total_steps / 2;
                s.loss = 1.0;
                data.apply(Event{s});
            }
        }
        views.show(data);
        views.draw_pending();
        widgets::PlotWidget* loss = views.loss();
        QCOMPARE(loss->series_count(), 2);
        const Points one_pass = plotted(*loss, 0), two_pass = plotted(*loss, 1);
        QCOMPARE(one_pass.back().first, 100.0);
        QCOMPARE(two_pass.back().first, 100.0);  // 200 steps drawn on 100 steps' width
        QCOMPARE(two_pass[99].first, 50.0);      // its first task ends where the one-pass run's does
        QVERIFY(loss->plot()->xAxis->label().contains("scaled"));
        // The Compare view's loss chart (one line per run) shares the axis the same way.
        widgets::PlotWidget compared("loss", "step", "loss");
        draw_loss(&compared, {&data.runs[0], &data.runs[1]}, false);
        QCOMPARE(compared.series_count(), 2);
        QCOMPARE(compared.point_count(1), 200);
        compared.plot()->replot();
        QCOMPARE(plotted(compared, 0).back().first, 100.0);
        QCOMPARE(plotted(compared, 1).back().first, 100.0);
    }

    void foundation_classes_start_before_the_stream() {
        QWidget window;
        RunViews views(&window);
        window.resize(900, 600);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        ExperimentData data;
        data.apply(Event{ExperimentStarted{"f", "{}", "h", {0}, {}}});
        RunStarted started;
        started.num_tasks = 2;
        data.apply(Event{started});
        RunData& run = data.runs.back();
        for (int after = -1; after <= 1; ++after)
            for (int c = 0; c < 2; ++c) run.class_evals.push_back({after, kFoundationTask, c, 50 - 10 * after, 100});
        views.show(data);
        views.draw_pending();
        widgets::PlotWidget* plot = views.foundation_classes();
        QCOMPARE(plot->series_count(), 2);
        plot->plot()->replot();
        const QVector<double> ticks = plot->plot()->xAxis->tickVector();
        const QVector<QString> labels = plot->plot()->xAxis->tickVectorLabels();
        const int first = static_cast<int>(ticks.indexOf(-1.0));
        QVERIFY(first >= 0);
        QCOMPARE(labels[first], QObject::tr("before the stream"));
        QCOMPARE(labels[ticks.indexOf(0.0)], QStringLiteral("0"));
    }
};

QTEST_MAIN(GuiPlotTests)
#include "gui_plots_test.moc"
