#include "app/run_list_model.h"

#include <algorithm>
#include <tuple>

namespace lorica::app {
namespace {

// The value a column sorts by (numbers as numbers; a missing accuracy sorts below every value).
QVariant sort_key(const RunSummary& r, int column) {
    switch (column) {
        case RunListModel::kRun: return QVariant::fromValue<qlonglong>(r.id);
        case RunListModel::kExperiment: return QVariant::fromValue<qlonglong>(r.experiment_id);
        case RunListModel::kVariant: return QString::fromStdString(r.variant);
        case RunListModel::kSeed: return QVariant::fromValue<qlonglong>(r.seed);
        case RunListModel::kMethod: return QString::fromStdString(r.method);
        case RunListModel::kStatus: return QString::fromLatin1(to_string(r.status));
        case RunListModel::kStarted: return QString::fromStdString(r.started_at);
        case RunListModel::kSeconds: return r.seconds;
        case RunListModel::kAccuracy: return r.final_accuracy ? *r.final_accuracy : -1.0;
    }
    return {};
}

}  // namespace

RunListModel::RunListModel(QObject* parent) : QAbstractTableModel(parent) {}

void RunListModel::set_runs(std::vector<RunSummary> runs) {
    beginResetModel();
    runs_ = std::move(runs);
    sort_rows();
    endResetModel();
}

int RunListModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : static_cast<int>(runs_.size()); }
int RunListModel::columnCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : kColumnCount; }

QVariant RunListModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount()) return {};
    const RunSummary& r = runs_[static_cast<size_t>(index.row())];
    const int c = index.column();
    if (role == Qt::TextAlignmentRole) {
        const bool number = c == kRun || c == kExperiment || c == kSeed || c == kSeconds || c == kAccuracy;
        return QVariant::fromValue(Qt::Alignment(number ? Qt::AlignRight | Qt::AlignVCenter : Qt::AlignLeft | Qt::AlignVCenter));
    }
    if (role != Qt::DisplayRole) return {};
    switch (c) {
        case kRun: return QVariant::fromValue<qlonglong>(r.id);
        case kExperiment: return r.experiment_id > 0 ? QVariant::fromValue<qlonglong>(r.experiment_id) : QVariant();
        case kVariant: return QString::fromStdString(r.variant);
        case kSeed: return QVariant::fromValue<qlonglong>(r.seed);
        case kMethod: return QString::fromStdString(r.method);
        case kStatus: return QString::fromLatin1(to_string(r.status));
        case kStarted: return QString::fromStdString(r.started_at).replace('T', ' ').left(19);
        case kSeconds: return QString::number(r.seconds, 'f', 1);
        case kAccuracy: return r.final_accuracy ? QString::number(*r.final_accuracy, 'f', 2) : QString();
    }
    return {};
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case kRun: return tr("run");
        case kExperiment: return tr("exp");
        case kVariant: return tr("variant");
        case kSeed: return tr("seed");
        case kMethod: return tr("method");
        case kStatus: return tr("status");
        case kStarted: return tr("started (UTC)");
        case kSeconds: return tr("seconds");
        case kAccuracy: return tr("Acc %");
    }
    return {};
}

void RunListModel::sort(int column, Qt::SortOrder order) {
    Q_EMIT layoutAboutToBeChanged();
    sort_column_ = column;
    sort_order_ = order;
    sort_rows();
    Q_EMIT layoutChanged();
}

void RunListModel::sort_rows() {
    if (sort_column_ < 0 || sort_column_ >= kColumnCount) return;
    const int column = sort_column_;
    const bool ascending = sort_order_ == Qt::AscendingOrder;
    std::stable_sort(runs_.begin(), runs_.end(), [column, ascending](const RunSummary& a, const RunSummary& b) {
        const QVariant ka = sort_key(a, column), kb = sort_key(b, column);
        const QPartialOrdering o = QVariant::compare(ka, kb);
        const bool less = o == QPartialOrdering::Less || (o == QPartialOrdering::Equivalent && a.id < b.id);
        const bool greater = o == QPartialOrdering::Greater || (o == QPartialOrdering::Equivalent && a.id > b.id);
        return ascending ? less : greater;
    });
}

}  // namespace lorica::app
