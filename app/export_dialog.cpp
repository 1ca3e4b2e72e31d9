#include "app/export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QRadioButton>
#include <QStandardPaths>

#include "app/store_worker.h"
#include "engine/store/run_store.h"

namespace lorica::app {

ExportDialog::ExportDialog(StoreWorker* worker, qint64 preselect_run, QWidget* parent)
    : QDialog(parent), worker_(worker) {
    setWindowTitle(tr("Export adapters"));
    auto* form = new QFormLayout(this);
    run_ = new QComboBox(this);
    run_->setPlaceholderText(tr("reading runs…"));
    form->addRow(tr("Run:"), run_);
    auto* folder_row = new QHBoxLayout;
    folder_ =
        new QLineEdit(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation) + "/lorica-adapters", this);
    auto* browse = new QPushButton(tr("Browse…"), this);
    folder_row->addWidget(folder_, 1);
    folder_row->addWidget(browse);
    form->addRow(tr("Output folder:"), folder_row);
    per_task_ = new QRadioButton(tr("One adapter per task"), this);
    per_task_->setChecked(true);
    auto* cumulative = new QRadioButton(tr("One cumulative adapter (all tasks merged)"), this);
    form->addRow(tr("Adapters:"), per_task_);
    form->addRow(QString(), cumulative);
    state_ = new QLabel(this);
    form->addRow(state_);
    buttons_ = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons_->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    if (!export_available())
        buttons_->button(QDialogButtonBox::Ok)->setToolTip(QString::fromStdString(export_unavailable_reason()));
    form->addRow(buttons_);
    update_buttons();
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Output folder"), folder_->text());
        if (!dir.isEmpty()) folder_->setText(dir);
    });
    connect(buttons_, &QDialogButtonBox::accepted, this, [this] {
        show_outcome_ = true;
        start_export();
    });
    connect(buttons_, &QDialogButtonBox::rejected, this, &QDialog::reject);

    if (!worker_) return;
    worker_->submit<RunPage>(
        StoreWorker::Lane::list_runs,
        [](const RunStore& store) {
            return store.list_run_page(RunFilter{}, RunPageRequest{kRunsListed, 0});
        },
        [self = QPointer<ExportDialog>(this), preselect_run](RunPage page, const QString& error) {
            if (self) self->show_runs(page, error, preselect_run);  // else closed before the list arrived
        });
}

void ExportDialog::show_runs(const RunPage& page, const QString& error, qint64 preselect_run) {
    if (!error.isEmpty()) state_->setText(tr("cannot list runs: %1").arg(error));
    for (const RunSummary& r : page.runs) {
        if (r.status == RunStatus::running) continue;
        run_->addItem(QStringLiteral("run %1 · %2 · seed %3 · %4")
                          .arg(r.id)
                          .arg(QString::fromStdString(r.method))
                          .arg(r.seed)
                          .arg(to_string(r.status)),
                      QVariant::fromValue<qlonglong>(r.id));
        if (r.id == preselect_run) run_->setCurrentIndex(run_->count() - 1);
    }
    if (run_->count() == 0 && error.isEmpty()) state_->setText(tr("no finished run to export"));
    update_buttons();
    Q_EMIT runs_listed(run_->count());
}

int ExportDialog::run_count() const { return run_->count(); }

void ExportDialog::set_output_folder(const QString& folder) { folder_->setText(folder); }

AdapterExportRequest ExportDialog::request() const {
    AdapterExportRequest r;
    r.run_id = run_->currentData().toLongLong();
    r.output_dir = folder_->text().toStdString();
    r.per_task = per_task_->isChecked();
    return r;
}

void ExportDialog::update_buttons() {
    buttons_->button(QDialogButtonBox::Ok)->setEnabled(export_available() && run_->count() > 0 && !exporting_);
}

void ExportDialog::start_export() {
    if (!worker_ || exporting_) return;
    exporting_ = true;
    const AdapterExportRequest what = request();
    state_->setText(tr("exporting run %1…").arg(what.run_id));
    update_buttons();
    worker_->submit<std::string>(
        StoreWorker::Lane::export_adapters, [what](const RunStore& store) { return export_adapters(store, what); },
        [self = QPointer<ExportDialog>(this)](std::string written, const QString& error) {
            if (self) self->export_done(QString::fromStdString(written), error);  // else closed meanwhile
        });
}

void ExportDialog::export_done(const QString& written, const QString& error) {
    exporting_ = false;
    update_buttons();
    state_->setText(error.isEmpty() ? tr("exported") : tr("export failed"));
    Q_EMIT export_finished(written, error);
    if (!show_outcome_) return;
    if (error.isEmpty()) {
        QMessageBox::information(this, tr("Adapters exported"), written);
        accept();
    } else {
        QMessageBox::warning(this, tr("Export failed"), error);
    }
}

}  // namespace lorica::app
