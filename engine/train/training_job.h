#pragma once
// A training job on its own thread: the object front ends hold (the GUI's worker, the CLI).
//
//   TrainingJob job(config, listener);   // starts the thread: preflight, then the experiment
//   job.pause(); job.resume(); job.cancel();   // from any thread
//   RunStatus s = job.wait();            // joins
// The destructor cancels and joins, so a job never outlives its owner. Events reach the listener on
// the job's thread (see event_listener.h).
//
// Preflight (preflight.h): a job made from a config runs the preflight on its thread first; when it
// finds bad input the job ends as failed WITHOUT sending any event (nothing reaches the store), and
// `preflight_error()` holds the message for the front end to show. A job made from a
// CheckedExperiment (the caller ran the preflight) starts the experiment at once, with the data set
// the preflight loaded.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/config/experiment_config.h"
#include "engine/train/preflight.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/event_listener.h"

namespace lorica {

class TrainingJob {
public:
    TrainingJob(ExperimentConfig config, std::shared_ptr<EventListener> listener);
    TrainingJob(CheckedExperiment checked, std::shared_ptr<EventListener> listener);
    ~TrainingJob();
    TrainingJob(const TrainingJob&) = delete;
    TrainingJob& operator=(const TrainingJob&) = delete;

    void cancel() { token_.request_cancel(); }
    void pause() { token_.pause(); }
    void resume() { token_.resume(); }
    bool paused() const { return token_.paused(); }
    bool done() const { return done_.load(); }
    RunStatus wait();  // joins; returns the experiment's status

    // The preflight's message when it refused to start the experiment (the job then ended as failed
    // and sent no event); "" otherwise. Meaningful once done().
    std::string preflight_error() const;

private:
    void start(bool preflight, std::shared_ptr<const PreloadedData> data);

    ExperimentConfig config_;
    std::shared_ptr<EventListener> listener_;
    CancelToken token_;
    std::atomic<bool> done_{false};
    std::atomic<RunStatus> status_{RunStatus::running};
    mutable std::mutex error_mutex_;
    std::string preflight_error_;
    std::thread thread_;
};

}  // namespace lorica
