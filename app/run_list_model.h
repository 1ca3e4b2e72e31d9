#pragma once
// RunListModel: the run browser's table as a model over plain RunSummary rows (pages of one SQL
// query's result, engine/store/run_listing.h): no store access of its own, so it is tested without
// widgets. It holds the pages loaded so far of a listing that may be far longer (`matching`); the
// view asks for more as it scrolls (canFetchMore / fetchMore → `more_wanted`), and sorting by a
// column is done by the query (sort() → `sort_wanted`: the browser lists again in that order), so a
// 10,000-run database is never read whole to show its first screen.

#include <vector>

#include <QAbstractTableModel>

#include "engine/store/run_listing.h"

namespace lorica::app {

class RunListModel : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { kRun, kExperiment, kVariant, kSeed, kMethod, kStatus, kStarted, kSeconds, kAccuracy, kColumnCount };

    explicit RunListModel(QObject* parent = nullptr);

    // Replaces the rows: the first page of a listing of `matching` runs (-1 = exactly these rows).
    void set_runs(std::vector<RunSummary> runs, int64_t matching = -1);
    // Adds the next page (what `more_wanted` asked for).
    void append_runs(std::vector<RunSummary> runs);
    int64_t matching() const { return matching_; }
    // The listing order of the current sort column (RunSortKey) and direction.
    RunSortKey sort_key() const;
    bool sort_descending() const { return sort_order_ == Qt::DescendingOrder; }
    static RunSortKey sort_key_of_column(int column);
    const RunSummary& run_at(int row) const { return runs_.at(static_cast<size_t>(row)); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    // Records the order and asks for a listing in it (`sort_wanted`); the rows change when it arrives.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;
    bool canFetchMore(const QModelIndex& parent) const override;
    void fetchMore(const QModelIndex& parent) override;

Q_SIGNALS:
    void sort_wanted();
    // The view scrolled to the end of the loaded rows: list the next page (offset = rowCount()).
    void more_wanted();

private:
    std::vector<RunSummary> runs_;
    int64_t matching_ = 0;
    bool asked_for_more_ = false;  // one more_wanted until the page arrives
    int sort_column_ = kRun;
    Qt::SortOrder sort_order_ = Qt::DescendingOrder;
};

}  // namespace lorica::app
