#include "engine/services/training_job.h"

#include "engine/services/experiment_runner.h"
#include "engine/services/preloaded_data.h"

namespace lorica {

TrainingJob::TrainingJob(ExperimentConfig config, std::shared_ptr<EventListener> listener, PresetNotes notes)
    : config_(std::move(config)), notes_(std::move(notes)), listener_(std::move(listener)) {
    start(true, nullptr);
}

TrainingJob::TrainingJob(CheckedExperiment checked, std::shared_ptr<EventListener> listener)
    : config_(std::move(checked.config)), listener_(std::move(listener)) {
    start(false, std::move(checked.data));
}

TrainingJob::TrainingJob(ResumeJob job, std::shared_ptr<EventListener> listener) : listener_(std::move(listener)) {
    start_resume(std::move(job));
}

void TrainingJob::start_resume(ResumeJob job) {
    thread_ = std::thread([this, job = std::move(job)]() mutable {
        RunStatus s = RunStatus::failed;
        try {
            if (!job.plan)
                job.plan = std::make_shared<const ResumePlan>(plan_resume(*job.store, job.run_id, job.after_task));
            config_ = job.plan->config;
            if (!job.data) job.data = preflight_experiment(job.plan->config).data;
            s = resume_run(*job.plan, *job.store, job.data, *listener_, token_);
            listener_->on_event(ExperimentFinished{s});  // the end of this job's events, as after an experiment
        } catch (const ResumeError& e) {
            std::lock_guard lock(error_mutex_);
            preflight_error_ = e.what();
        } catch (const PreflightError& e) {
            std::lock_guard lock(error_mutex_);
            preflight_error_ = e.what();
        } catch (const std::exception& e) {
            std::lock_guard lock(error_mutex_);
            if (preflight_error_.empty()) preflight_error_ = e.what();
        }
        status_.store(s);
        done_.store(true);
    });
}

void TrainingJob::start(bool preflight, std::shared_ptr<const PreloadedData> data) {
    thread_ = std::thread([this, preflight, data = std::move(data)]() mutable {
        RunStatus s = RunStatus::failed;
        try {
            if (preflight) {
                CheckedExperiment checked = preflight_experiment(config_, notes_);
                config_ = std::move(checked.config);
                data = std::move(checked.data);
            }
            s = run_experiment(config_, *listener_, token_, std::move(data));
        } catch (const PreflightError& e) {
            std::lock_guard lock(error_mutex_);
            preflight_error_ = e.what();
            s = RunStatus::failed;
        } catch (const std::exception&) {
            s = RunStatus::failed;
        }
        status_.store(s);
        done_.store(true);
    });
}

TrainingJob::~TrainingJob() {
    token_.request_cancel();
    if (thread_.joinable()) thread_.join();
}

RunStatus TrainingJob::wait() {
    if (thread_.joinable()) thread_.join();
    return status_.load();
}

std::string TrainingJob::preflight_error() const {
    std::lock_guard lock(error_mutex_);
    return preflight_error_;
}

}  // namespace lorica
