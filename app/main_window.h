#pragma once
// MainWindow: the workbench. Every part is a dock (experiment setup, run browser, compare, and each
// plot), so a researcher can rearrange, tabify or float them; the layout is remembered between
// sessions (QSettings saveState/restoreState, app_settings.h).
//
// Run control: Start (Ctrl+R), Pause/Resume (Ctrl+P), Cancel (Ctrl+.), with a progress bar showing
// seed/task/epoch/step and the ETA. The engine runs on its own thread (EngineSession); the views
// redraw from a single-shot timer armed by the session's data_changed signal, so a burst of training
// events costs one redraw. Closing during a run asks, then cancels cleanly (joins the thread).

#include <map>
#include <memory>
#include <vector>

#include <QMainWindow>
#include <QPointer>
#include <QStringList>
#include <QTimer>

#include "app/run_data.h"
#include "app/view_id.h"

class QAction;
class QDockWidget;
class QLabel;
class QProgressBar;
class QToolBar;

namespace lorica {
class RunStore;
}

namespace lorica::app {

class CompareView;
class ConfigEditor;
class EngineSession;
class PrepareDialog;
class RunBrowser;
class RunViews;
class StoreWorker;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Opens (creating when missing) a results database; shows a message and returns false on error.
    bool open_database(const QString& path);
    // Merges shard databases into the open database on a worker thread (File → Merge shards…);
    // emits shards_merged when done, after refreshing the run browser.
    void merge_shards(const QStringList& shards);
    // Starts the experiment in the editor; false (with the reason in the status bar) when the config
    // is invalid or a run is in progress.
    bool start_run();
    // Reopens a run with the other seeds of its experiment, read off the GUI thread (StoreWorker);
    // `run_shown` when it is on screen. A newer open supersedes one still loading.
    void open_run(qint64 run_id);
    // Shows runs side by side in the Compare dock, read off the GUI thread; `runs_compared` then.
    // Continues run `run_id` of the open database from its last task checkpoint (EngineSession::
    // start_resume: the checks and the training run on the job's thread). False when a run is in
    // progress or no database is open.
    bool resume_run(qint64 run_id);
    void compare_runs(const QList<qint64>& run_ids);
    // Experiment → Prepare data set…: opens (or raises) the dialog that prepares the editor's config's
    // data into a folder on a worker thread (prepare_dialog.h); when it completes, data.prepared is set
    // to the folder in the editor. nullptr, with the reason in the status bar, when the config is
    // invalid or its data is held in memory (prepare_unavailable_reason).
    PrepareDialog* prepare_data();
    // Saves a PNG of the main window and of every dock into `dir` (created); returns the files.
    QStringList save_screenshots(const QString& dir);
    // Ask before closing during a run (off for scripted use).
    void set_confirm_close(bool confirm) { confirm_close_ = confirm; }
    // Redraw delay after new data (ms): the coalescing window.
    void set_redraw_interval(int ms) { redraw_timer_.setInterval(ms); }

    ConfigEditor* editor() const { return editor_; }
    EngineSession* session() const { return session_; }
    RunViews* views() const { return views_; }
    RunBrowser* browser() const { return browser_; }
    CompareView* compare() const { return compare_; }
    QAction* start_action() const { return start_; }
    QAction* pause_action() const { return pause_; }
    QAction* cancel_action() const { return cancel_; }
    QAction* export_action() const { return export_; }
    QAction* merge_action() const { return merge_; }
    QAction* config_json_action() const { return config_json_; }
    QAction* resume_action() const { return resume_; }
    QAction* prepare_action() const { return prepare_; }
    const std::shared_ptr<RunStore>& store() const { return store_; }
    // The reader of the open database (nullptr before one is open).
    StoreWorker* store_worker() const { return worker_.get(); }
    QString progress_text() const;
    int redraw_count() const { return redraws_; }
    // The docks, held by what they show (their object names are only for saveState/restoreState).
    QDockWidget* setup_dock() const { return setup_dock_; }
    QDockWidget* runs_dock() const { return runs_dock_; }
    QDockWidget* compare_dock() const { return compare_dock_; }
    QDockWidget* view_dock(ViewId id) const;

Q_SIGNALS:
    // A merge started by merge_shards ended: ok = every shard merged; runs_added = new runs.
    void shards_merged(bool ok, int runs_added);
    // open_run's experiment is drawn (ok) or could not be read (ok = false, the reason shown).
    void run_shown(qint64 run_id, bool ok);
    // compare_runs' runs are in the Compare dock (count = runs shown; 0 when they could not be read).
    void runs_compared(int count);

protected:
    void closeEvent(QCloseEvent* event) override;

private:
    void build_actions();
    void build_docks();
    // A method-specific view's dock is visible while the shown runs offer it (RunViews::offers).
    void show_offered_views();
    QDockWidget* add_dock(const QString& id, const QString& title, QWidget* widget, Qt::DockWidgetArea area);
    void update_actions();
    // A run started: the set-up column (set-up and runs docks) folds so the plots get the width; the
    // toolbar's Set-up button (or View → Set-up) shows it again with one click.
    void fold_setup_column();
    // The run ended (or the window closes): the docks fold_setup_column hid are shown again.
    void unfold_setup_column();
    void redraw();
    void load_config_dialog();
    void save_config_dialog();

    std::shared_ptr<RunStore> store_;
    std::unique_ptr<StoreWorker> worker_;  // reads and exports of store_, off the GUI thread
    EngineSession* session_ = nullptr;
    ConfigEditor* editor_ = nullptr;
    RunViews* views_ = nullptr;
    RunBrowser* browser_ = nullptr;
    CompareView* compare_ = nullptr;
    QProgressBar* progress_ = nullptr;
    QLabel* progress_label_ = nullptr;
    QAction* start_ = nullptr;
    QAction* pause_ = nullptr;
    QAction* cancel_ = nullptr;
    QAction* export_ = nullptr;
    QAction* merge_ = nullptr;
    QAction* config_json_ = nullptr;  // View → Config as JSON
    QAction* resume_ = nullptr;       // Experiment → Resume selected run
    QAction* prepare_ = nullptr;      // Experiment → Prepare data set…
    QPointer<PrepareDialog> prepare_dialog_;
    QMenu* view_menu_ = nullptr;
    QToolBar* run_toolbar_ = nullptr;  // Start, Pause, Cancel, Set-up
    QMenu* presets_menu_ = nullptr;
    bool presets_described_ = false;  // the Presets actions carry their descriptions (first opening)
    // Every dock in creation order, with the name its screenshot file takes.
    std::vector<std::pair<QDockWidget*, QString>> docks_;
    QDockWidget* setup_dock_ = nullptr;
    QDockWidget* runs_dock_ = nullptr;
    QDockWidget* compare_dock_ = nullptr;
    std::map<ViewId, QDockWidget*> view_docks_;
    // The docks of the set-up column that start_run folded away (shown again when the run ends).
    std::vector<QDockWidget*> folded_;
    int folded_width_ = 0;  // the set-up column's width when it folded
    QTimer redraw_timer_;
    ExperimentData shown_;  // a reopened experiment (when not showing the live one)
    bool showing_live_ = false;
    bool confirm_close_ = true;
    int redraws_ = 0;
};

}  // namespace lorica::app
