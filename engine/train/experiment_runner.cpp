#include "engine/train/experiment_runner.h"

#include "engine/util/log.h"

#include <chrono>

#include "engine/data/raw_dataset.h"
#include "engine/train/device.h"
#include "engine/train/stream_trainer.h"

namespace lorica {

RunStatus run_experiment(const ExperimentConfig& config, EventListener& events, CancelToken& cancel) {
    const nlohmann::json effective = to_json(config);
    events.on_event(ExperimentStarted{config.name, effective.dump(), config_hash(effective), config.seeds});
    const int threads = configure_threads(config.threads);
    log::debug("LibTorch " + torch_version() + " with " + std::to_string(threads) + " intra-op threads");

    RawDataset raw;
    try {
        const auto start = std::chrono::steady_clock::now();
        raw = load_raw_dataset(config);
        log::debug("data set loaded in " +
                   std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()) + " s");
    } catch (const std::exception& e) {
        // Report the data error as the first run's failure so that it is stored and shown.
        RunStarted started;
        started.seed = config.seeds.front();
        started.method = config.method.name;
        started.config_json = effective.dump();
        started.config_hash = config_hash(effective);
        started.device = config.device;
        started.torch_version = torch_version();
        started.num_tasks = config.stream.tasks;
        events.on_event(started);
        events.on_event(RunFinished{RunStatus::failed, e.what(), 0.0});
        events.on_event(ExperimentFinished{RunStatus::failed});
        return RunStatus::failed;
    }

    RunStatus overall = RunStatus::finished;
    for (size_t i = 0; i < config.seeds.size(); ++i) {
        RunStatus s = run_stream(RunRequest{config, raw, static_cast<int>(i), config.seeds[i]}, events, cancel);
        if (s == RunStatus::cancelled) {
            overall = RunStatus::cancelled;
            break;
        }
        if (s == RunStatus::failed) overall = RunStatus::failed;
    }
    events.on_event(ExperimentFinished{overall});
    return overall;
}

}  // namespace lorica
