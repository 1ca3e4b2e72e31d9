#pragma once
// ExportDialog: "Export adapters…" — pick a run, an output folder, and per-task or cumulative
// adapters; calls export_adapters (adapter_export.h) and reports what was written or why not.

#include <memory>

#include <QDialog>

#include "app/adapter_export.h"

class QComboBox;
class QLineEdit;
class QRadioButton;

namespace lorica::app {

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    // Lists the finished and interrupted runs of `store`; `preselect_run` (0 = none) is selected.
    ExportDialog(std::shared_ptr<RunStore> store, qint64 preselect_run, QWidget* parent = nullptr);

    AdapterExportRequest request() const;

private:
    void run_export();

    std::shared_ptr<RunStore> store_;
    QComboBox* run_ = nullptr;
    QLineEdit* folder_ = nullptr;
    QRadioButton* per_task_ = nullptr;
};

}  // namespace lorica::app
