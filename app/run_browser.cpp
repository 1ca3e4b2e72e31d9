#include "app/run_browser.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include "app/run_data.h"
#include "engine/store/run_store.h"

namespace lorica::app {

RunBrowser::RunBrowser(QWidget* parent) : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    auto* filters = new QHBoxLayout;
    method_ = new QLineEdit(this);
    method_->setPlaceholderText(tr("method contains…"));
    method_->setClearButtonEnabled(true);
    status_ = new QComboBox(this);
    status_->addItem(tr("any status"), QString());
    for (const char* s : {"running", "finished", "failed", "cancelled", "interrupted"}) status_->addItem(s, QString(s));
    since_ = new QLineEdit(this);
    since_->setPlaceholderText(tr("since 2025-01-31"));
    since_->setToolTip(tr("Runs started on or after this date (ISO-8601, any prefix)"));
    until_ = new QLineEdit(this);
    until_->setPlaceholderText(tr("until"));
    until_->setToolTip(tr("Runs started on or before this date (the whole day included)"));
    filters->addWidget(method_, 2);
    filters->addWidget(status_, 1);
    filters->addWidget(since_, 1);
    filters->addWidget(until_, 1);
    layout->addLayout(filters);

    table_ = new QTableWidget(this);
    table_->setColumnCount(8);
    table_->setHorizontalHeaderLabels(
        {tr("run"), tr("exp"), tr("seed"), tr("method"), tr("status"), tr("started (UTC)"), tr("seconds"), tr("Acc %")});
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setSortingEnabled(true);
    layout->addWidget(table_, 1);

    auto* buttons = new QHBoxLayout;
    auto* refresh_button = new QPushButton(tr("Refresh"), this);
    auto* open_button = new QPushButton(tr("Open"), this);
    open_button->setToolTip(tr("Reopen the selected run with all its plots (and the other seeds of its experiment)"));
    auto* compare_button = new QPushButton(tr("Compare"), this);
    compare_button->setToolTip(tr("Compare the selected runs side by side (select two or more)"));
    buttons->addWidget(refresh_button);
    buttons->addStretch();
    buttons->addWidget(open_button);
    buttons->addWidget(compare_button);
    layout->addLayout(buttons);

    connect(refresh_button, &QPushButton::clicked, this, &RunBrowser::refresh);
    connect(method_, &QLineEdit::textChanged, this, &RunBrowser::refresh);
    connect(status_, &QComboBox::currentIndexChanged, this, &RunBrowser::refresh);
    connect(since_, &QLineEdit::editingFinished, this, &RunBrowser::refresh);
    connect(until_, &QLineEdit::editingFinished, this, &RunBrowser::refresh);
    connect(open_button, &QPushButton::clicked, this, [this] {
        const auto ids = selected_run_ids();
        if (!ids.isEmpty()) Q_EMIT open_requested(ids.front());
    });
    connect(compare_button, &QPushButton::clicked, this, [this] {
        const auto ids = selected_run_ids();
        if (ids.size() >= 1) Q_EMIT compare_requested(ids);
    });
    connect(table_, &QTableWidget::cellDoubleClicked, this, [this](int row, int) { Q_EMIT open_requested(run_id_at(row)); });
}

void RunBrowser::set_store(std::shared_ptr<RunStore> store) {
    store_ = std::move(store);
    refresh();
}

void RunBrowser::set_method_filter(const QString& text) { method_->setText(text); }
void RunBrowser::set_status_filter(const QString& status) {
    const int index = status_->findData(status);
    status_->setCurrentIndex(index < 0 ? 0 : index);
}

void RunBrowser::refresh() {
    table_->setSortingEnabled(false);
    table_->setRowCount(0);
    if (!store_) return;
    RunFilter filter;
    filter.method_contains = method_->text().trimmed().toStdString();
    if (const QString s = status_->currentData().toString(); !s.isEmpty()) filter.status = run_status_from_string(s.toStdString());
    filter.since = since_->text().trimmed().toStdString();
    filter.until = until_->text().trimmed().toStdString();
    const auto runs = store_->list_runs(filter);
    table_->setRowCount(static_cast<int>(runs.size()));
    for (int row = 0; row < static_cast<int>(runs.size()); ++row) {
        const RunRecord& r = runs[row];
        auto number = [](double v, int decimals = 0) {
            auto* item = new QTableWidgetItem;
            item->setData(Qt::DisplayRole, decimals == 0 ? QVariant(static_cast<qlonglong>(v)) : QVariant(QString::number(v, 'f', decimals)));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            return item;
        };
        table_->setItem(row, 0, number(static_cast<double>(r.id)));
        table_->setItem(row, 1, number(static_cast<double>(r.experiment_id)));
        table_->setItem(row, 2, number(static_cast<double>(r.seed)));
        table_->setItem(row, 3, new QTableWidgetItem(QString::fromStdString(r.method)));
        auto* status = new QTableWidgetItem(QString::fromLatin1(to_string(r.status)));
        if (!r.message.empty()) status->setToolTip(QString::fromStdString(r.message));
        table_->setItem(row, 4, status);
        table_->setItem(row, 5, new QTableWidgetItem(QString::fromStdString(r.started_at).replace('T', ' ').left(19)));
        table_->setItem(row, 6, number(r.seconds, 1));
        QString acc;
        if (r.status != RunStatus::running) {
            std::vector<EvalRow> rows;
            for (const auto& e : store_->eval_rows(r.id)) rows.push_back(e.row);
            if (auto a = final_accuracy(AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il, r.num_tasks)))
                acc = QString::number(*a, 'f', 2);
        }
        table_->setItem(row, 7, new QTableWidgetItem(acc));
    }
    table_->setSortingEnabled(true);
}

int RunBrowser::row_count() const { return table_->rowCount(); }

qint64 RunBrowser::run_id_at(int row) const {
    const QTableWidgetItem* item = table_->item(row, 0);
    return item ? item->data(Qt::DisplayRole).toLongLong() : 0;
}

QList<qint64> RunBrowser::selected_run_ids() const {
    QList<qint64> ids;
    for (const QModelIndex& index : table_->selectionModel()->selectedRows()) ids << run_id_at(index.row());
    std::sort(ids.begin(), ids.end());
    return ids;
}

void RunBrowser::select_runs(const QList<qint64>& ids) {
    table_->clearSelection();
    for (int row = 0; row < table_->rowCount(); ++row)
        if (ids.contains(run_id_at(row)))
            table_->selectionModel()->select(table_->model()->index(row, 0),
                                             QItemSelectionModel::Select | QItemSelectionModel::Rows);
}

}  // namespace lorica::app
