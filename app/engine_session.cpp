#include "app/engine_session.h"

#include <stdexcept>
#include <type_traits>

#include "app/event_bridge.h"
#include "engine/store/run_store.h"
#include "engine/store/store_listener.h"
#include "engine/services/training_job.h"
#include "engine/vocabulary/progress_estimate.h"

namespace lorica::app {

namespace {

QString clock_text(double seconds) {
    const auto s = static_cast<long long>(seconds + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg(s / 60 % 60, 2, 10, QChar('0'))
            .arg(s % 60, 2, 10, QChar('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

}  // namespace

QString Progress::text() const {
    QString out;
    if (runs > 1) out += QStringLiteral("seed %1/%2 · ").arg(run_index + 1).arg(runs);
    const qint64 planned = foundation ? foundation_total_steps : total_steps;
    const QString steps = planned > 0 ? QStringLiteral("%1/%2").arg(step).arg(planned) : QString::number(step);
    if (foundation) return out + QStringLiteral("foundation step %1").arg(steps);
    out += QStringLiteral("task %1/%2 · epoch %3/%4 · step %5")
               .arg(task + 1)
               .arg(tasks)
               .arg(epoch + 1)
               .arg(epochs)
               .arg(steps);
    out += eta_seconds >= 0 ? QStringLiteral(" · ETA %1").arg(clock_text(eta_seconds)) : QStringLiteral(" · ETA …");
    return out;
}

EngineSession::EngineSession(QObject* parent) : QObject(parent) {
    static const int registered = qRegisterMetaType<lorica::app::Progress>();
    Q_UNUSED(registered);
    // A job that ended without its ExperimentFinished event (its preflight refused the input, or an
    // exception escaped the engine) is noticed here, so the window never waits forever.
    watchdog_.setInterval(500);
    connect(&watchdog_, &QTimer::timeout, this, [this] {
        if (!job_ || !job_->done()) return;
        drain();
        if (!running_) return;
        running_ = false;
        paused_ = false;
        const QString refused = QString::fromStdString(job_->preflight_error());
        finish_job();
        watchdog_.stop();
        if (!refused.isEmpty()) Q_EMIT cannot_start(refused);  // bad input: nothing ran or was stored
        Q_EMIT experiment_finished(RunStatus::failed);
    });
}

EngineSession::~EngineSession() {
    job_.reset();  // cancels and joins: no event reaches the bridge after this
    store_listener_.reset();
}

void EngineSession::reset_progress() {
    data_ = ExperimentData{};
    progress_ = Progress{};
    paused_ = false;
    paused_ms_ = 0;
    paused_since_ms_.reset();
    clock_.invalidate();
    steps_before_run_ = 0;
    steps_at_clock_start_ = 0;
    run_facts_ = RunFacts{};
}

void EngineSession::start_resume(qint64 run_id, std::shared_ptr<RunStore> store) {
    if (running_) throw std::logic_error("an experiment is already running");
    finish_job();
    reset_progress();
    progress_.runs = 1;
    bridge_ = std::make_shared<EventBridge>(this, &EngineSession::drain);
    StoreListenerOptions options;
    options.resume_run_id = run_id;
    store_listener_ = std::make_shared<StoreListener>(store, options);
    auto fanout = std::make_shared<EventFanout>();
    fanout->add(store_listener_);
    fanout->add(bridge_);
    running_ = true;
    job_ = std::make_unique<TrainingJob>(ResumeJob{std::move(store), run_id, std::nullopt, nullptr, nullptr}, fanout);
    watchdog_.start();
}

void EngineSession::start(const ExperimentConfig& config, std::shared_ptr<RunStore> store, PresetNotes notes) {
    if (running_) throw std::logic_error("an experiment is already running");
    finish_job();
    config_ = config;
    reset_progress();
    progress_.runs = static_cast<int>(config.seeds.size());

    bridge_ = std::make_shared<EventBridge>(this, &EngineSession::drain);
    store_listener_ = std::make_shared<StoreListener>(std::move(store));
    auto fanout = std::make_shared<EventFanout>();
    fanout->add(store_listener_);  // first: the store has the rows before the GUI hears of them
    fanout->add(bridge_);
    running_ = true;
    job_ = std::make_unique<TrainingJob>(config, fanout, std::move(notes));
    watchdog_.start();
}

void EngineSession::pause() {
    if (!job_ || paused_) return;
    job_->pause();
    paused_ = true;
    if (clock_.isValid()) paused_since_ms_ = clock_.elapsed();
}

void EngineSession::resume() {
    if (!job_ || !paused_) return;
    job_->resume();
    paused_ = false;
    if (paused_since_ms_ && clock_.isValid()) paused_ms_ += clock_.elapsed() - *paused_since_ms_;
    paused_since_ms_.reset();
}

void EngineSession::cancel() {
    if (!job_) return;
    if (paused_) resume();
    job_->cancel();
}

void EngineSession::cancel_and_wait() {
    if (!job_) return;
    cancel();
    job_->wait();
    drain();  // the last events (RunFinished, ExperimentFinished)
    finish_job();
}

void EngineSession::finish_job() {
    if (job_) job_->wait();
    job_.reset();
    if (store_listener_) store_listener_->flush();
    store_listener_.reset();
    bridge_.reset();
}

void EngineSession::drain() {
    if (!bridge_) return;
    const std::vector<Event> events = bridge_->take();
    bool changed = false, progressed = false;
    std::optional<RunStatus> experiment_status;
    for (const Event& event : events) {
        data_.apply(event);
        std::visit(
            [&](const auto& e) {
                using T = std::decay_t<decltype(e)>;
                if constexpr (std::is_same_v<T, ExperimentStarted>) {
                    progress_.runs = static_cast<int>(e.seeds.size());
                    Q_EMIT experiment_started(QString::fromStdString(e.name), progress_.runs);
                } else if constexpr (std::is_same_v<T, RunStarted>) {
                    progress_.run_index = e.run_index;
                    progress_.tasks = e.num_tasks;
                    progress_.total_steps = e.total_steps;
                    progress_.step = 0;
                    progress_.task = 0;
                    progress_.epoch = 0;
                    run_facts_ = e.facts;  // each task's epochs (a data-set stream's may differ)
                    progress_.epochs = run_facts_.epochs_of(0);
                    Q_EMIT run_started(e.run_index, e.seed, QString::fromStdString(e.method));
                    progressed = true;
                } else if constexpr (std::is_same_v<T, FoundationProgress>) {
                    progress_.foundation = true;
                    progress_.step = e.step;
                    progress_.foundation_total_steps = e.total_steps;
                    progressed = true;
                } else if constexpr (std::is_same_v<T, TaskStarted>) {
                    progress_.foundation = false;
                    progress_.task = e.task;
                    progress_.epochs = run_facts_.epochs_of(e.task);
                    progressed = true;
                } else if constexpr (std::is_same_v<T, StepMetrics>) {
                    progress_.foundation = false;
                    if (!clock_.isValid()) {
                        clock_.start();
                        steps_at_clock_start_ = steps_before_run_ + e.step - 1;  // > 0 for a resumed run
                    }
                    progress_.task = e.task;
                    progress_.epochs = run_facts_.epochs_of(e.task);
                    progress_.epoch = e.epoch;
                    progress_.step = e.step;
                    progress_.loss = e.loss;
                    changed = progressed = true;
                } else if constexpr (std::is_same_v<T, RunFinished>) {
                    steps_before_run_ += progress_.total_steps;
                    const int index = data_.runs.empty() ? 0 : static_cast<int>(data_.runs.size()) - 1;
                    Q_EMIT run_finished(index, e.status, QString::fromStdString(e.message));
                    changed = true;
                } else if constexpr (std::is_same_v<T, ExperimentFinished>) {
                    experiment_status = e.status;
                } else if constexpr (std::is_same_v<T, Warning>) {
                    Q_EMIT warning(QString::fromStdString(e.message));
                } else if constexpr (std::is_same_v<T, EvaluationDone> || std::is_same_v<T, MethodState> ||
                                     std::is_same_v<T, AnalysisDone> || std::is_same_v<T, StreamDescribed>) {
                    changed = true;
                }
            },
            event);
    }
    // Live runs learn their database ids from the store listener (it wrote the run rows first).
    if (store_listener_) {
        const auto ids = store_listener_->run_ids();
        for (std::size_t k = 0; k < data_.runs.size() && k < ids.size(); ++k) data_.runs[k].record.id = ids[k];
    }
    if (progressed) {
        // An unknown total (RunStarted.total_steps = 0) plans nothing: no fraction, no ETA.
        const qint64 planned = progress_.total_steps > 0 ? progress_.total_steps * std::max(1, progress_.runs) : 0;
        const qint64 done = progress_.foundation ? steps_before_run_ : steps_before_run_ + progress_.step;
        // The steps in `done` since the clock started (at the first stream step) are timed by its
        // active time (paused time left out); a resumed run's earlier steps are done, not timed.
        const bool timing = clock_.isValid() && progress_.step > 0 && !progress_.foundation;
        const ProgressEstimate estimate =
            estimate_progress(done, planned, timing ? done - steps_at_clock_start_ : 0,
                              timing ? static_cast<double>(clock_.elapsed() - paused_ms_) / 1000.0 : 0.0);
        progress_.fraction = estimate.fraction;
        progress_.eta_seconds = estimate.eta_seconds;
        Q_EMIT progress_changed(progress_);
    }
    if (changed) Q_EMIT data_changed();
    if (experiment_status) {
        watchdog_.stop();
        running_ = false;
        paused_ = false;
        finish_job();
        progress_.fraction = *experiment_status == RunStatus::finished ? 1.0 : progress_.fraction;
        Q_EMIT data_changed();
        Q_EMIT experiment_finished(*experiment_status);
    }
}

}  // namespace lorica::app
