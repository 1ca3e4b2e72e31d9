#pragma once
// MatrixHeatmap: a matrix drawn as coloured cells with each value written in its cell, for the
// accuracy matrix R[t][j] (rows: after task t; columns: evaluated task j) and the overlap matrices.
//
// A heatmap holds one or more *variants* of the same shape (e.g. "accuracy, class-IL" and
// "forgetting, class-IL"); a combo box above the chart toggles between them. Absent cells
// (std::nullopt: not evaluated) stay blank. Rows run top to bottom. The chart is a PlotWidget, so it
// zooms, pans and exports like every other plot (CSV: one series per row, x = column).

#include <optional>
#include <vector>

#include <QString>
#include <QStringList>
#include <QWidget>

class QComboBox;
class QCPColorMap;

namespace lorica::widgets {

class PlotWidget;

using Grid = std::vector<std::vector<std::optional<double>>>;  // [rows][columns]

struct HeatmapVariant {
    QString name;        // shown in the toggle, e.g. "Accuracy (class-IL)"
    Grid cells;          // [rows][columns]
    double lower = 0.0;  // colour scale range
    double upper = 100.0;
    bool higher_is_better = true;  // colour direction: good values are drawn light
    int decimals = 1;
};

class MatrixHeatmap : public QWidget {
    Q_OBJECT
public:
    MatrixHeatmap(const QString& title, const QString& row_label, const QString& column_label,
                  QWidget* parent = nullptr);

    // Replaces the variants (keeps the selected variant index when it still exists). Row and column
    // names label the axes ("t0", "t1", ...); empty lists number them.
    void set_variants(std::vector<HeatmapVariant> variants, const QStringList& row_names = {},
                      const QStringList& column_names = {});
    void set_empty_message(const QString& message);
    // What the variant toggle's tooltip says (default: accuracy vs. forgetting).
    void set_toggle_tooltip(const QString& tooltip);
    // Tick labels of unnamed rows and columns: prefix + index (default "after " / "task ": the
    // accuracy matrix's "after 2" × "task 1").
    void set_tick_prefixes(const QString& row_prefix, const QString& column_prefix);
    void select_variant(int index);
    // The toggle (and its "Show:" label) is shown only when there are variants to choose from.
    bool toggle_shown() const;

    int variant_count() const { return static_cast<int>(variants_.size()); }
    int current_variant() const;
    int filled_cells() const;  // cells of the shown variant holding a value
    PlotWidget* plot_widget() const { return plot_; }

private:
    void redraw();

    PlotWidget* plot_ = nullptr;
    QComboBox* toggle_ = nullptr;
    QWidget* toggle_label_ = nullptr;
    QString row_prefix_ = QStringLiteral("after "), column_prefix_ = QStringLiteral("task ");
    std::vector<HeatmapVariant> variants_;
    QStringList row_names_, column_names_;
    QString empty_message_;
};

}  // namespace lorica::widgets
