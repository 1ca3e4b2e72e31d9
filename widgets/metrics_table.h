#pragma once
// MetricsTable: every continual-learning metric of engine/eval/metrics.h (metric_table(), in its
// display order) as rows, then the run's cost (engine/eval/cost_table.h, cost_columns(): GFLOPs/img,
// learnable, stored params, stored features), one column per run or per aggregate ("mean ± std" over
// seeds).
//
// Each row header carries the metric's formula and description as its tooltip, so the table
// documents itself. Values are pre-formatted strings (the caller decides between "68.33" and
// "70.00 ± 10.00"); a missing metric reads "n/a", a missing cost "—" (a run stored before the cost keys).

#include <vector>

#include <QString>
#include <QWidget>

class QTableWidget;

namespace lorica::widgets {

struct MetricsColumn {
    QString name;                 // column header, e.g. "run 12 (seed 0)" or "mean ± std (3 seeds)"
    std::vector<QString> values;  // one per metric_table() entry, same order; missing → "n/a"
    std::vector<QString> cost;    // one per cost_columns() entry, same order; missing → "—"
};

class MetricsTable : public QWidget {
    Q_OBJECT
public:
    explicit MetricsTable(QWidget* parent = nullptr);

    void set_columns(const std::vector<MetricsColumn>& columns);
    int row_count() const;
    int column_count() const;
    QString text(int row, int column) const;
    QString row_tooltip(int row) const;
    int cost_row(int column) const;  // the row of cost_columns()[column]: after the metrics
    QTableWidget* table() const { return table_; }

private:
    QTableWidget* table_ = nullptr;
};

}  // namespace lorica::widgets
