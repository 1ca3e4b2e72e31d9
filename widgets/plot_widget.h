#pragma once
// PlotWidget: one QCustomPlot chart with the interactions every Lorica plot shares.
//
//   - zoom with the mouse wheel, pan by dragging, double-click (or ⋯ → Fit all data) to fit all data
//     again. Once the user has zoomed or panned, finish() keeps the axis ranges (live appends and
//     redraws never undo the user's view) until fit_all() or follow_data();
//   - the legend sits right of the plot, outside the data area (it never covers points), and folds
//     away with the header's legend button;
//   - right-click menu (and the ⋯ button) to export the chart as PNG, PDF, SVG (when Qt6Svg is
//     available) or its data as CSV (long format: series,x,y);
//   - an explanatory empty state: while no series is drawn, `empty_message` is shown in the middle;
//   - coalesced redraws: `finish()` rescales and asks for `rpQueuedReplot`, so bursts of updates
//     within one event-loop turn draw once;
//   - append-only live data: `append_to_line` adds only the new points of a series (QCPGraph::addData),
//     so a growing curve is never rebuilt;
//   - long curves decimated to the pixels shown: each series keeps all its points, and a series with
//     more than kPointsPerColumn points per pixel column of the visible x-range hands QCustomPlot only
//     the first, lowest, highest and last point of each column (curve_decimation.h): spikes stay
//     visible. The decimation is redone before drawing when the x-range or width changed (zoom, pan,
//     resize, new points), in O(visible points). Exports (CSV) and point_count see every point.
//
// Callers build a chart from their data (clear → add_line/add_band/add_vertical_marker → finish) and
// may then grow its lines (append_to_line → finish). Threading: GUI thread only.

#include <vector>

#include <QColor>
#include <QMap>
#include <QString>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPItemText;
class QCPLayoutGrid;
class QLabel;
class QToolButton;

namespace lorica::widgets {

class PlotWidget : public QWidget {
    Q_OBJECT
public:
    PlotWidget(const QString& title, const QString& x_label, const QString& y_label, QWidget* parent = nullptr);

    // Removes every series, band and marker (the axis labels stay).
    void clear();
    // A line (optionally with point markers); returns its series index.
    int add_line(const QString& name, const QVector<double>& x, const QVector<double>& y, const QColor& color,
                 Qt::PenStyle style = Qt::SolidLine, bool points = false);
    // Appends points to series `series` (x ascending, not below its last x): only these points go to
    // the chart (or, for a decimated series, the columns they fall in are recomputed before the next
    // replot). Call finish() afterwards to fit the axes and queue the redraw.
    void append_to_line(int series, const QVector<double>& x, const QVector<double>& y);
    // The mean line plus a shaded band mean ± std (seeds); returns the mean line's series index.
    // The band's two edges are extra series named "<name> − std" / "<name> + std".
    int add_band(const QString& name, const QVector<double>& x, const QVector<double>& mean, const QVector<double>& std,
                 const QColor& color);
    // A dashed vertical line at x with a label at the top (task boundaries).
    void add_vertical_marker(double x, const QString& label);
    // Fits the axes to the data (y range fixed when set_y_range was called) and queues a redraw; keeps
    // the axis ranges instead while the user's own view holds (user_view()).
    void finish();
    // Forgets the user's view and fits the axes to the data (double-click, ⋯ → Fit all data).
    void fit_all();
    // Forgets the user's view without redrawing: the next finish() fits (other data is shown).
    void follow_data() { user_view_ = false; }
    // The user zoomed or panned since the last fit_all/follow_data.
    bool user_view() const { return user_view_; }
    // The legend (right of the plot, when the chart has two named series or more) shown or folded.
    void set_legend_open(bool open);
    bool legend_open() const { return legend_open_; }
    bool legend_shown() const;
    void set_x_label(const QString& label);
    // Ticks on whole numbers only (x axes that count tasks: "after task" 0, 1, 2 — never 0.2);
    // `labels`: tick texts that replace a number (e.g. −1 → "before the stream").
    void set_integer_x_ticks(const QMap<double, QString>& labels = {});
    // Fixes the y range (e.g. 0–100 for accuracies); finish() then fits x only.
    void set_y_range(double lower, double upper);
    // Text shown while the chart holds no series.
    void set_empty_message(const QString& message);
    void set_title(const QString& title);

    // Exports; each returns false (and leaves no file) when writing failed. Sizes in pixels.
    bool export_png(const QString& path, int width = 0, int height = 0);
    bool export_pdf(const QString& path);
    bool export_svg(const QString& path);  // false when built without Qt6Svg
    bool export_csv(const QString& path) const;
    static bool svg_supported();

    // Introspection (tests, compare view).
    int series_count() const;
    // Every point of the series (what the caller handed over).
    int point_count(int series) const;
    // The points the chart holds for it now (fewer than point_count when decimated).
    int plotted_count(int series) const;
    // The pixel columns the decimation works with (the axis rect's width, at least 64).
    int decimation_columns() const;
    QString series_name(int series) const;
    int marker_count() const { return markers_; }
    bool showing_empty_state() const;
    QCustomPlot* plot() const { return plot_; }

protected:
    // Follows palette changes (light/dark theme switches) with the axis, grid and text colours.
    void changeEvent(QEvent* event) override;

private:
    // A series' own points; its graph holds them all, or their decimation.
    struct Line {
        std::vector<double> x, y;
        double y_min = 0.0, y_max = 0.0;  // over the finite y (valid when has_y)
        bool has_y = false;
        bool decimated = false;  // the graph holds a decimation of x, y
        bool stale = false;      // the graph's decimation misses points or a range change
        void extend_bounds(const double* ys, std::size_t n);
    };
    void show_export_menu(const QPoint& global_position);
    void update_empty_state();
    // Places the legend in the plot's layout (right of the axis rect) when it is shown, takes it out
    // (no space kept) when it is not.
    void update_legend();
    // After each layout (before drawing): re-decimates the lines whose decimation no longer fits (range, width, data).
    void refresh_decimation();
    void decimate_line(int series);

    std::vector<Line> lines_;  // one per graph, in graph order
    double decimated_lower_ = 0.0, decimated_upper_ = 0.0;
    int decimated_columns_ = 0;

    QCustomPlot* plot_ = nullptr;
    QCPItemText* empty_text_ = nullptr;
    QLabel* title_ = nullptr;
    QString empty_message_;
    bool fixed_y_ = false;
    double y_lower_ = 0.0, y_upper_ = 1.0;
    int markers_ = 0;
    bool user_view_ = false;  // the user zoomed or panned: finish() keeps the ranges
    bool legend_open_ = true;
    QToolButton* legend_button_ = nullptr;    // folds the legend (shown when there is one)
    QCPLayoutGrid* legend_column_ = nullptr;  // the legend at the top, a spacer below; owned by plot_
};

// A qualitative colour for series i, readable on light and dark backgrounds; distinct for i < 40
// (Tableau 10, then darker, then lighter).
QColor series_color(int i);

}  // namespace lorica::widgets
