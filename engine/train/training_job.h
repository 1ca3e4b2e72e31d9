#pragma once
// A training job on its own thread: the object front ends hold (the GUI's worker, the CLI).
//
//   TrainingJob job(config, listener);   // starts the thread
//   job.pause(); job.resume(); job.cancel();   // from any thread
//   RunStatus s = job.wait();            // joins
// The destructor cancels and joins, so a job never outlives its owner. Events reach the listener on
// the job's thread (see event_listener.h).

#include <atomic>
#include <memory>
#include <thread>

#include "engine/config/experiment_config.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/event_listener.h"

namespace lorica {

class TrainingJob {
public:
    TrainingJob(ExperimentConfig config, std::shared_ptr<EventListener> listener);
    ~TrainingJob();
    TrainingJob(const TrainingJob&) = delete;
    TrainingJob& operator=(const TrainingJob&) = delete;

    void cancel() { token_.request_cancel(); }
    void pause() { token_.pause(); }
    void resume() { token_.resume(); }
    bool paused() const { return token_.paused(); }
    bool done() const { return done_.load(); }
    RunStatus wait();  // joins; returns the experiment's status

private:
    ExperimentConfig config_;
    std::shared_ptr<EventListener> listener_;
    CancelToken token_;
    std::atomic<bool> done_{false};
    std::atomic<RunStatus> status_{RunStatus::running};
    std::thread thread_;
};

}  // namespace lorica
