#pragma once
// ExportDialog: "Export adapters…" — pick a run, an output folder, and per-task or cumulative
// adapters; calls export_adapters (adapter_export.h) and reports what was written or why not.
//
// Both the run list (the newest kRunsListed runs that are not running, read by one listing query)
// and the export itself run on the StoreWorker's thread: the dialog stays responsive, shows
// "exporting…" while the files are written, and closes when they are.

#include <QDialog>

#include "app/adapter_export.h"
#include "engine/store/run_listing.h"

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QRadioButton;

namespace lorica::app {

class StoreWorker;

class ExportDialog : public QDialog {
    Q_OBJECT
public:
    static constexpr int kRunsListed = 500;

    // Lists the newest finished, failed, cancelled and interrupted runs; `preselect_run` (0 = none) is
    // selected when listed (`runs_listed` once the list is there).
    ExportDialog(StoreWorker* worker, qint64 preselect_run, QWidget* parent = nullptr);

    AdapterExportRequest request() const;
    void set_output_folder(const QString& folder);
    int run_count() const;
    // Starts the export of request() (what the Export button does); `export_finished` when done.
    void start_export();

Q_SIGNALS:
    void runs_listed(int count);
    // `written`: the paths written, one per line; `error` empty on success.
    void export_finished(const QString& written, const QString& error);

private:
    void update_buttons();
    void show_runs(const RunPage& page, const QString& error, qint64 preselect_run);
    void export_done(const QString& written, const QString& error);

    StoreWorker* worker_ = nullptr;
    QComboBox* run_ = nullptr;
    QLineEdit* folder_ = nullptr;
    QRadioButton* per_task_ = nullptr;
    QDialogButtonBox* buttons_ = nullptr;
    QLabel* state_ = nullptr;
    bool exporting_ = false;
    bool show_outcome_ = false;  // a message box with the outcome: only when started by the Export button
};

}  // namespace lorica::app
