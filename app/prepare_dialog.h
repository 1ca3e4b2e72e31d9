#pragma once
// PrepareDialog: Experiment → Prepare data set… (and the Prepare button beside the set-up's
// data.prepared field). Asks for the folder, prepares the config's data into it on a PrepareWorker
// (never on the GUI thread) and shows the images done / total, the set being written and the time
// left, with Cancel.
//
//   ┌ Prepare data set ─────────────────────────────────────────────────────┐
//   │ Decodes every image of this config's data once, resized to 256 px …   │
//   │ Folder [/data/imagenet-r-prepared-256            ] [Browse…]          │
//   │ [██████████░░░░░░░░░░░░░░] 12,345 / 30,000 images · 1 min 20 s left   │
//   │ writing: imagenet-r train (/data/imagenet-r)                          │
//   │                                                     [Prepare] [Cancel]│
//   └────────────────────────────────────────────────────────────────────────┘
//
// Ends: finished → `prepared(dir)` (the main window sets data.prepared to it); cancelled → says the
// next Prepare into the same folder continues where this stopped; failed → the engine's message,
// which names the field (ConfigError) or the file (DataError). Cancel (or Esc, or closing) while
// preparing cancels; the dialog stays to show the outcome, then Close closes it.
//
// The folder proposed (default_prepared_folder): data.prepared when set; else beside the data set's
// root, "<root>-prepared-<size>", when the root's parent folder is writable; else under the user data
// folder, "<data>/prepared/<root's name or the experiment's name>-<size>" (engine/util/paths.h).

#include <QDialog>
#include <QString>

#include "app/prepare_worker.h"
#include "engine/config/experiment_config.h"

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QToolButton;

namespace lorica::app {

QString default_prepared_folder(const ExperimentConfig& config);

class PrepareDialog : public QDialog {
    Q_OBJECT
public:
    explicit PrepareDialog(const ExperimentConfig& config, QWidget* parent = nullptr);

    QString folder() const;
    void set_folder(const QString& dir);
    // Starts preparing into folder(); false (with the reason shown) when it is empty or a job runs.
    bool start();
    void cancel();
    bool running() const { return worker_->running(); }

    PrepareWorker* worker() const { return worker_; }
    QProgressBar* progress_bar() const { return bar_; }
    QString progress_text() const;  // "n / N images · … left"
    QString outcome_text() const;   // how the last job ended ("" before one ended)
    QPushButton* cancel_button() const { return cancel_button_; }
    QPushButton* prepare_button() const { return prepare_button_; }

    void reject() override;  // Esc / close: cancels a job in progress, else closes

Q_SIGNALS:
    // The folder is complete: runs of this config can read it (data.prepared = dir).
    void prepared(const QString& dir, const lorica::app::PrepareOutcome& outcome);
    void ended(const lorica::app::PrepareOutcome& outcome);

private:
    void show_progress(const PrepareUpdate& update);
    void show_outcome(const PrepareOutcome& outcome);
    void set_running(bool running);

    ExperimentConfig config_;
    PrepareWorker* worker_ = nullptr;
    QLineEdit* folder_ = nullptr;
    QToolButton* browse_ = nullptr;
    QProgressBar* bar_ = nullptr;
    QLabel* progress_ = nullptr;
    QLabel* set_ = nullptr;
    QLabel* outcome_ = nullptr;
    QPushButton* prepare_button_ = nullptr;
    QPushButton* cancel_button_ = nullptr;
};

}  // namespace lorica::app
