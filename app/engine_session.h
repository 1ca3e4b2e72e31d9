#pragma once
// EngineSession: the GUI's handle on one running experiment.
//
// It owns the TrainingJob (the engine on its own thread), a StoreListener writing the run into the
// open results database, and an EventBridge moving events to the GUI thread. On the GUI thread the
// events are applied to `data()` (ExperimentData) and re-emitted as typed signals: lifecycle signals
// per event, `progress` and `data_changed` at most once per drained batch (views coalesce further with
// their own redraw timer). The session is torch-free: it includes only the engine's plain headers.
//
// Lifetime: destroying the session cancels the job and joins the training thread.

#include <memory>
#include <optional>

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QTimer>

#include "app/run_data.h"
#include "engine/config/experiment_config.h"
#include "engine/config/preset_notes.h"
#include "engine/vocabulary/run_status.h"

namespace lorica {
class RunStore;
class StoreListener;
class TrainingJob;
}  // namespace lorica

namespace lorica::app {

class EventBridge;

// Where an experiment stands, for the progress bar and its label.
struct Progress {
    bool foundation = false;  // pre-training (or loading its cache) rather than the stream
    int run_index = 0, runs = 1;
    int task = 0, tasks = 0;            // 0-based task, stream length
    int epoch = 0, epochs = 0;          // 0-based epoch, epochs per task
    qint64 step = 0, total_steps = 0;   // global stream step of this run (the foundation's while foundation) /
                                        // the stream steps planned for the run (RunStarted; 0 = unknown)
    qint64 foundation_total_steps = 0;  // the foundation step's planned steps (FoundationProgress)
    double fraction = 0.0;              // of the whole experiment (every seed), in [0, 1]
    double eta_seconds = -1.0;          // remaining wall time; −1 while unknown
    double loss = 0.0;                  // last step loss
    QString text() const;               // "seed 1/3 · task 2/5 · epoch 1/3 · step 150/480 · ETA 0:42"
};

class EngineSession : public QObject {
    Q_OBJECT
public:
    explicit EngineSession(QObject* parent = nullptr);
    ~EngineSession() override;

    // Starts `config`, writing into `store`. Throws (ConfigError, ...) when it cannot start; a session
    // runs one experiment at a time (std::logic_error while one runs). The input checks that read
    // files (data, weights) run on the job's thread: bad input there is reported by cannot_start.
    // `notes`: those of the document `config` came from (a preset's "requires": its problems then say
    // what is expected there, as on the CLI).
    void start(const ExperimentConfig& config, std::shared_ptr<RunStore> store, PresetNotes notes = {});
    // Continues stored run `run_id` of `store` from its last task checkpoint (engine/services/run_resume.h),
    // into the same run record. Everything that reads the database or checkpoint files runs on the
    // job's thread; a run that cannot be resumed is reported by cannot_start (naming the run and the
    // file), then experiment_finished(RunStatus::failed). The live view shows the resumed tasks; the run's
    // earlier rows stay in the store (reopen the run to see all of it).
    void start_resume(qint64 run_id, std::shared_ptr<RunStore> store);
    void pause();
    void resume();
    void cancel();
    // Cancels and waits for the training thread (closing the window during a run).
    void cancel_and_wait();

    bool running() const { return running_; }
    bool paused() const { return paused_; }
    const ExperimentData& data() const { return data_; }
    const Progress& progress() const { return progress_; }

Q_SIGNALS:
    void experiment_started(const QString& name, int seeds);
    void run_started(int run_index, qint64 seed, const QString& method);
    void progress_changed(const lorica::app::Progress& progress);
    void data_changed();  // data() gained points (at most once per drained batch)
    void warning(const QString& message);
    // The job's preflight (engine/services/preflight.h, run on the job's thread) found bad input: every
    // problem, one message. Nothing was run or stored; experiment_finished(RunStatus::failed) follows.
    void cannot_start(const QString& message);
    void run_finished(int run_index, lorica::RunStatus status, const QString& message);
    void experiment_finished(lorica::RunStatus status);

private:
    // Applies the events the bridge buffered (queued by EventBridge on the GUI thread).
    void drain();
    void finish_job();
    void reset_progress();

    std::shared_ptr<EventBridge> bridge_;
    std::shared_ptr<StoreListener> store_listener_;
    std::unique_ptr<TrainingJob> job_;
    ExperimentConfig config_;
    ExperimentData data_;
    Progress progress_;
    bool running_ = false;
    bool paused_ = false;
    QTimer watchdog_;
    QElapsedTimer clock_;  // started at the first stream step
    qint64 paused_ms_ = 0;
    std::optional<qint64> paused_since_ms_;
    qint64 steps_before_run_ = 0;      // stream steps of the finished runs
    qint64 steps_at_clock_start_ = 0;  // steps already done when the clock started (a resumed run's)
    RunFacts run_facts_;               // of the current run (RunStarted): its tasks' epochs
};

}  // namespace lorica::app

Q_DECLARE_METATYPE(lorica::app::Progress)
Q_DECLARE_METATYPE(lorica::RunStatus)
