#include "app/export_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QStandardPaths>

#include "engine/store/run_store.h"

namespace lorica::app {

ExportDialog::ExportDialog(std::shared_ptr<RunStore> store, qint64 preselect_run, QWidget* parent)
    : QDialog(parent), store_(std::move(store)) {
    setWindowTitle(tr("Export adapters"));
    auto* form = new QFormLayout(this);
    run_ = new QComboBox(this);
    if (store_)
        for (const RunRecord& r : store_->list_runs()) {
            if (r.status == RunStatus::running) continue;
            run_->addItem(QStringLiteral("run %1 · %2 · seed %3 · %4")
                              .arg(r.id).arg(QString::fromStdString(r.method)).arg(r.seed).arg(to_string(r.status)),
                          QVariant::fromValue<qlonglong>(r.id));
            if (r.id == preselect_run) run_->setCurrentIndex(run_->count() - 1);
        }
    form->addRow(tr("Run:"), run_);
    auto* folder_row = new QHBoxLayout;
    folder_ = new QLineEdit(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation) + "/lorica-adapters", this);
    auto* browse = new QPushButton(tr("Browse…"), this);
    folder_row->addWidget(folder_, 1);
    folder_row->addWidget(browse);
    form->addRow(tr("Output folder:"), folder_row);
    per_task_ = new QRadioButton(tr("One adapter per task"), this);
    per_task_->setChecked(true);
    auto* cumulative = new QRadioButton(tr("One cumulative adapter (all tasks merged)"), this);
    form->addRow(tr("Adapters:"), per_task_);
    form->addRow(QString(), cumulative);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Export"));
    buttons->button(QDialogButtonBox::Ok)->setEnabled(export_available() && run_->count() > 0);
    if (!export_available())
        buttons->button(QDialogButtonBox::Ok)->setToolTip(QString::fromStdString(export_unavailable_reason()));
    form->addRow(buttons);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Output folder"), folder_->text());
        if (!dir.isEmpty()) folder_->setText(dir);
    });
    connect(buttons, &QDialogButtonBox::accepted, this, &ExportDialog::run_export);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
}

AdapterExportRequest ExportDialog::request() const {
    AdapterExportRequest r;
    r.run_id = run_->currentData().toLongLong();
    r.output_dir = folder_->text().toStdString();
    r.per_task = per_task_->isChecked();
    return r;
}

void ExportDialog::run_export() {
    try {
        const std::string written = export_adapters(*store_, request());
        QMessageBox::information(this, tr("Adapters exported"), QString::fromStdString(written));
        accept();
    } catch (const std::exception& e) {
        QMessageBox::warning(this, tr("Export failed"), QString::fromUtf8(e.what()));
    }
}

}  // namespace lorica::app
