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
//
// Resume (run_resume.h): a job made from a ResumeJob continues a stored run. On its thread it plans the
// resume (unless a plan is given) and loads the data; a run that cannot be resumed or bad data end the
// job as failed without any event, with preflight_error() saying why (naming the run and the file).

#include <atomic>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>

#include "engine/config/experiment_config.h"
#include "engine/services/preflight.h"
#include "engine/services/run_resume.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/event_listener.h"

namespace lorica {

// What a resuming job continues: run `run_id` of `store`, from its newest checkpoint or the one after
// `after_task`; `plan`/`data` when the caller already has them (else made on the job's thread).
struct ResumeJob {
    std::shared_ptr<RunStore> store;
    int64_t run_id = 0;
    std::optional<int> after_task;
    std::shared_ptr<const ResumePlan> plan;
    std::shared_ptr<const PreloadedData> data;
};

class TrainingJob {
public:
    // `notes`: the preset notes of the document `config` was parsed from (preflight checks what the
    // preset requires and names what belongs there; preflight.h).
    TrainingJob(ExperimentConfig config, std::shared_ptr<EventListener> listener, PresetNotes notes = {});
    TrainingJob(CheckedExperiment checked, std::shared_ptr<EventListener> listener);
    // Continues a stored run (see above). `listener` must write into job.store with resume_run_id set.
    TrainingJob(ResumeJob job, std::shared_ptr<EventListener> listener);
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
    void start_resume(ResumeJob job);

    ExperimentConfig config_;
    PresetNotes notes_;
    std::shared_ptr<EventListener> listener_;
    CancelToken token_;
    std::atomic<bool> done_{false};
    std::atomic<RunStatus> status_{RunStatus::running};
    mutable std::mutex error_mutex_;
    std::string preflight_error_;
    std::thread thread_;
};

}  // namespace lorica
