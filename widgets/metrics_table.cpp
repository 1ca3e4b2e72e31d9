#include "widgets/metrics_table.h"

#include <QHeaderView>
#include <QTableWidget>
#include <QVBoxLayout>

#include "engine/eval/cost_table.h"
#include "engine/eval/metrics.h"

namespace lorica::widgets {

MetricsTable::MetricsTable(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    table_ = new QTableWidget(this);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setAlternatingRowColors(true);
    // Sized to the contents once per set_columns (ResizeToContents would re-measure every cell on each
    // item set: quadratic in the cells).
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    table_->verticalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    layout->addWidget(table_);
    const auto& metrics = metric_table();
    table_->setRowCount(static_cast<int>(metrics.size() + kCostColumns));
    for (int r = 0; r < static_cast<int>(metrics.size()); ++r) {
        const MetricInfo& info = metrics[r];
        auto* header = new QTableWidgetItem(QString::fromStdString(info.name));
        header->setToolTip(QStringLiteral("<b>%1</b><br><code>%2</code><br>%3<br><i>%4</i>")
                               .arg(QString::fromStdString(info.name).toHtmlEscaped(),
                                    QString::fromStdString(info.formula).toHtmlEscaped(),
                                    QString::fromStdString(info.description).toHtmlEscaped(),
                                    info.higher_is_better ? tr("higher is better") : tr("lower is better")));
        table_->setVerticalHeaderItem(r, header);
    }
    for (size_t c = 0; c < kCostColumns; ++c) {
        const CostColumnInfo& info = cost_columns()[c];
        auto* header = new QTableWidgetItem(QString::fromStdString(info.label));
        header->setToolTip(QStringLiteral("<b>%1</b><br>%2")
                               .arg(QString::fromStdString(info.label).toHtmlEscaped(),
                                    QString::fromStdString(info.description).toHtmlEscaped()));
        table_->setVerticalHeaderItem(cost_row(static_cast<int>(c)), header);
    }
    set_columns({});
}

void MetricsTable::set_columns(const std::vector<MetricsColumn>& columns) {
    table_->setUpdatesEnabled(false);
    table_->setColumnCount(static_cast<int>(columns.size()));
    for (int c = 0; c < static_cast<int>(columns.size()); ++c) {
        table_->setHorizontalHeaderItem(c, new QTableWidgetItem(columns[c].name));
        for (int r = 0; r < table_->rowCount(); ++r) {
            const int cost = r - cost_row(0);  // ≥ 0: a cost row
            const std::vector<QString>& given = cost >= 0 ? columns[c].cost : columns[c].values;
            const int i = cost >= 0 ? cost : r;
            const QString value = i < static_cast<int>(given.size()) && !given[i].isEmpty() ? given[i]
                                  : cost >= 0 ? QString::fromUtf8(kMissingCost)
                                              : QStringLiteral("n/a");
            auto* item = new QTableWidgetItem(value);
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            item->setToolTip(table_->verticalHeaderItem(r)->toolTip());
            table_->setItem(r, c, item);
        }
    }
    table_->resizeColumnsToContents();
    table_->resizeRowsToContents();
    table_->setUpdatesEnabled(true);
}

int MetricsTable::row_count() const { return table_->rowCount(); }
int MetricsTable::column_count() const { return table_->columnCount(); }
QString MetricsTable::text(int row, int column) const {
    const QTableWidgetItem* item = table_->item(row, column);
    return item ? item->text() : QString();
}
int MetricsTable::cost_row(int column) const { return static_cast<int>(metric_table().size()) + column; }
QString MetricsTable::row_tooltip(int row) const { return table_->verticalHeaderItem(row)->toolTip(); }

}  // namespace lorica::widgets
