#include "app/run_list_model.h"

#include <iterator>

namespace lorica::app {
RunListModel::RunListModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunListModel::set_runs(std::vector<RunSummary> runs, int64_t matching) {
    beginResetModel();
    runs_ = std::move(runs);
    matching_ = matching < 0 ? static_cast<int64_t>(runs_.size()) : matching;
    asked_for_more_ = false;
    endResetModel();
}

void RunListModel::append_runs(std::vector<RunSummary> runs) {
    asked_for_more_ = false;
    if (runs.empty()) {
        matching_ = static_cast<int64_t>(runs_.size());  // the listing shrank meanwhile
        return;
    }
    const int first = static_cast<int>(runs_.size());
    beginInsertRows({}, first, first + static_cast<int>(runs.size()) - 1);
    runs_.insert(runs_.end(), std::make_move_iterator(runs.begin()), std::make_move_iterator(runs.end()));
    endInsertRows();
}

bool RunListModel::canFetchMore(const QModelIndex& parent) const {
    return !parent.isValid() && !asked_for_more_ && static_cast<int64_t>(runs_.size()) < matching_;
}

void RunListModel::fetchMore(const QModelIndex& parent) {
    if (!canFetchMore(parent)) return;
    asked_for_more_ = true;
    Q_EMIT more_wanted();
}

RunSortKey RunListModel::sort_key_of_column(int column) {
    switch (column) {
        case kRun:
            return RunSortKey::id;
        case kExperiment:
            return RunSortKey::experiment;
        case kVariant:
            return RunSortKey::variant;
        case kSeed:
            return RunSortKey::seed;
        case kMethod:
            return RunSortKey::method;
        case kStatus:
            return RunSortKey::status;
        case kStarted:
            return RunSortKey::started;
        case kSeconds:
            return RunSortKey::seconds;
        case kAccuracy:
            return RunSortKey::final_accuracy;
    }
    return RunSortKey::id;
}

RunSortKey RunListModel::sort_key() const { return sort_key_of_column(sort_column_); }

int RunListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(runs_.size());
}
int RunListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant RunListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount()) return {};
    const RunSummary& r = runs_[static_cast<size_t>(index.row())];
    const int c = index.column();
    if (role == Qt::TextAlignmentRole) {
        const bool number = c == kRun || c == kExperiment || c == kSeed || c == kSeconds || c == kAccuracy;
        return QVariant::fromValue(
            Qt::Alignment(number ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter));
    }
    if (role != Qt::DisplayRole) return {};
    switch (c) {
        case kRun:
            return QVariant::fromValue<qlonglong>(r.id);
        case kExperiment:
            return r.experiment_id > 0 ? QVariant::fromValue<qlonglong>(r.experiment_id) : QVariant();
        case kVariant:
            return QString::fromStdString(r.variant);
        case kSeed:
            return QVariant::fromValue<qlonglong>(r.seed);
        case kMethod:
            return QString::fromStdString(r.method);
        case kStatus:
            return QString::fromLatin1(to_string(r.status));
        case kStarted:
            return QString::fromStdString(r.started_at).replace('T', ' ').left(19);
        case kSeconds:
            return QString::number(r.seconds, 'f', 1);
        case kAccuracy:
            return r.final_accuracy ? QString::number(*r.final_accuracy, 'f', 2) : QString();
    }
    return {};
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case kRun:
            return tr("run");
        case kExperiment:
            return tr("exp");
        case kVariant:
            return tr("variant");
        case kSeed:
            return tr("seed");
        case kMethod:
            return tr("method");
        case kStatus:
            return tr("status");
        case kStarted:
            return tr("started (UTC)");
        case kSeconds:
            return tr("seconds");
        case kAccuracy:
            return tr("Acc %");
    }
    return {};
}

void RunListModel::sort(int column, Qt::SortOrder order) {
    if (column < 0 || column >= kColumnCount) column = kRun;
    if (column == sort_column_ && order == sort_order_) return;
    sort_column_ = column;
    sort_order_ = order;
    Q_EMIT sort_wanted();
}

}  // namespace lorica::app
