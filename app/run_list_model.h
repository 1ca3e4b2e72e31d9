#pragma once
// RunListModel: the run browser's table as a model over plain RunSummary rows (one SQL query's
// result, engine/store/run_listing.h): no store access of its own, so it is tested without widgets
// and a 10,000-run listing costs one vector. Sortable by any column (sort() reorders the rows).

#include <vector>

#include <QAbstractTableModel>

#include "engine/store/run_listing.h"

namespace lorica::app {

class RunListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { kRun, kExperiment, kVariant, kSeed, kMethod, kStatus, kStarted, kSeconds, kAccuracy, kColumnCount };

    explicit RunListModel(QObject* parent = nullptr);

    // Replaces the rows (keeps the current sort column and order).
    void set_runs(std::vector<RunSummary> runs);
    const RunSummary& run_at(int row) const { return runs_.at(static_cast<size_t>(row)); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

private:
    void sort_rows();

    std::vector<RunSummary> runs_;
    int sort_column_ = -1;  // -1: as listed (newest first)
    Qt::SortOrder sort_order_ = Qt::AscendingOrder;
};

}  // namespace lorica::app
