#include "engine/train/training_job.h"

#include "engine/train/experiment_runner.h"

namespace lorica {

TrainingJob::TrainingJob(ExperimentConfig config, std::shared_ptr<EventListener> listener)
    : config_(std::move(config)), listener_(std::move(listener)) {
    thread_ = std::thread([this] {
        RunStatus s = RunStatus::failed;
        try {
            s = run_experiment(config_, *listener_, token_);
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

}  // namespace lorica
