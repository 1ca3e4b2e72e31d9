#include "app/run_browser.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLineEdit>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

#include "app/store_worker.h"
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
    status_->addItem(tr("any status"), QVariant());
    for (const auto& [status, name] : kRunStatusNames)
        status_->addItem(QString::fromLatin1(name), static_cast<int>(status));
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

    model_ = new RunListModel(this);
    table_ = new QTableView(this);
    table_->setModel(model_);
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->hide();
    table_->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);  // uniform rows: no per-row sizing
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->horizontalHeader()->setSortIndicator(RunListModel::kRun, Qt::DescendingOrder);
    table_->setSortingEnabled(true);
    layout->addWidget(table_, 1);
    count_ = new QLabel(this);
    layout->addWidget(count_);

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

    connect(model_, &RunListModel::sort_wanted, this, &RunBrowser::refresh);
    connect(model_, &RunListModel::more_wanted, this, [this] { request_page(model_->rowCount()); });
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
    connect(table_, &QTableView::doubleClicked, this,
            [this](const QModelIndex& index) { Q_EMIT open_requested(run_id_at(index.row())); });
    table_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(table_, &QTableView::customContextMenuRequested, this, [this](const QPoint& pos) {
        const QModelIndex index = table_->indexAt(pos);
        if (!index.isValid()) return;
        QMenu* menu = context_menu(index.row());
        menu->popup(table_->viewport()->mapToGlobal(pos));
    });
}

RunBrowser::~RunBrowser() = default;

std::optional<RunStatus> RunBrowser::status_at(int row) const {
    if (row < 0 || row >= model_->rowCount()) return std::nullopt;
    return model_->run_at(row).status;
}

QMenu* RunBrowser::context_menu(int row) {
    auto* menu = new QMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    const qint64 id = run_id_at(row);
    menu->addAction(tr("Open"), this, [this, id] { Q_EMIT open_requested(id); });
    menu->addAction(tr("Compare selected"), this, [this] {
        const auto ids = selected_run_ids();
        if (!ids.isEmpty()) Q_EMIT compare_requested(ids);
    });
    QAction* resume = menu->addAction(tr("Resume run"), this, [this, id] { Q_EMIT resume_requested(id); });
    resume->setObjectName(QStringLiteral("resume_run"));
    const std::optional<RunStatus> status = status_at(row);
    resume->setEnabled(status && is_resumable(*status));
    resume->setToolTip(tr("Continue the run from its last task checkpoint, into the same run record"));
    return menu;
}

void RunBrowser::set_store(std::shared_ptr<RunStore> store) {
    store_ = std::move(store);
    worker_.reset();
    if (store_) {
        worker_ = std::make_unique<StoreWorker>(store_);
    }
    refresh();
}

void RunBrowser::set_method_filter(const QString& text) { method_->setText(text); }
void RunBrowser::set_status_filter(std::optional<RunStatus> status) {
    const int index = status ? status_->findData(static_cast<int>(*status)) : 0;
    status_->setCurrentIndex(index < 0 ? 0 : index);
}

RunFilter RunBrowser::current_filter() const {
    RunFilter filter;
    filter.method_contains = method_->text().trimmed().toStdString();
    if (const QVariant s = status_->currentData(); s.isValid()) filter.status = static_cast<RunStatus>(s.toInt());
    filter.since = since_->text().trimmed().toStdString();
    filter.until = until_->text().trimmed().toStdString();
    return filter;
}

void RunBrowser::refresh() {
    if (!worker_) {
        model_->set_runs({});
        count_->setText(tr("no database"));
        return;
    }
    request_page(0);
    count_->setText(tr("listing…"));
}

void RunBrowser::request_page(int64_t offset) {
    if (!worker_) return;
    RunPageRequest page;
    page.limit = kPageRows;
    page.offset = offset;
    page.sort = model_->sort_key();
    page.descending = model_->sort_descending();
    requested_offset_ = offset;
    worker_->submit<RunPage>(
        StoreWorker::Lane::list_runs,
        [filter = current_filter(), page](const RunStore& store) { return store.list_run_page(filter, page); },
        [this](RunPage listed, const QString& error) { show_listing(listed, error); });
}

void RunBrowser::show_listing(const RunPage& page, const QString& error) {
    // Only the newest request's listing arrives here (StoreWorker drops superseded ones).
    if (!error.isEmpty()) {
        count_->setText(tr("cannot list runs: %1").arg(error));
        return;
    }
    if (requested_offset_ > 0) {
        model_->append_runs(page.runs);
    } else {
        const QList<qint64> selected = selected_run_ids();
        model_->set_runs(page.runs, page.matching);
        select_runs(selected);
    }
    count_->setText(
        model_->rowCount() < page.matching
            ? tr("%1 of %n run(s) (scroll for more)", nullptr, static_cast<int>(page.matching)).arg(model_->rowCount())
            : tr("%n run(s)", nullptr, static_cast<int>(page.matching)));
    Q_EMIT listing_shown(model_->rowCount(), page.matching);
}

int RunBrowser::row_count() const { return model_->rowCount(); }

int RunBrowser::listings_pending() const { return worker_ ? worker_->pending() : 0; }

qint64 RunBrowser::run_id_at(int row) const {
    return row >= 0 && row < model_->rowCount() ? model_->run_at(row).id : 0;
}

QList<qint64> RunBrowser::selected_run_ids() const {
    QList<qint64> ids;
    for (const QModelIndex& index : table_->selectionModel()->selectedRows()) ids << run_id_at(index.row());
    std::sort(ids.begin(), ids.end());
    return ids;
}

void RunBrowser::select_runs(const QList<qint64>& ids) {
    table_->clearSelection();
    for (int row = 0; row < model_->rowCount(); ++row)
        if (ids.contains(run_id_at(row)))
            table_->selectionModel()->select(model_->index(row, 0),
                                             QItemSelectionModel::Select | QItemSelectionModel::Rows);
}

}  // namespace lorica::app
