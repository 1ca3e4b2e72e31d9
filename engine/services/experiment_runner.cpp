#include "engine/services/experiment_runner.h"

#include "engine/util/log.h"

#include <chrono>

#include "engine/config/experiment_variants.h"
#include "engine/config/run_facts_of_config.h"
#include "engine/data/raw_dataset.h"
#include "engine/eval/contextual_forgetting.h"
#include "engine/store/sweep_summary.h"
#include "engine/runtime/device.h"
#include "engine/services/preloaded_data.h"
#include "engine/train/stream_trainer.h"

namespace lorica {
namespace {

// Forwards every event, tagging RunStarted with the variant, adds the run's class similarities after
// its StreamDescribed (contextual forgetting) and (for a rank sweep) its rank-sweep points before its
// RunFinished. `data`: the loaded data set (its class names are read when the stream is described).
class VariantRunListener final : public EventListener {
public:
    VariantRunListener(EventListener& next, const ExperimentVariant& variant, bool rank_sweep, const RawDataset& data)
        : next_(next), variant_(variant), rank_sweep_(rank_sweep), data_(data) {}

    void on_event(const Event& event) override {
        if (const auto* started = std::get_if<RunStarted>(&event)) {
            RunStarted tagged = *started;
            tagged.variant = variant_.label;
            tagged.variant_index = variant_.index;
            tagged.sweep_field = variant_.sweep_field;
            tagged.sweep_value = variant_.sweep_value;
            tagged.facts.variant = variant_.label;
            rows_.clear();
            next_.on_event(tagged);
            return;
        }
        if (const auto* described = std::get_if<StreamDescribed>(&event)) {
            next_.on_event(event);
            RunClassNames names{
                data_.class_names, data_.foundation ? data_.foundation->class_names : std::vector<std::string>(), {}};
            for (const RawDataset& task_data : data_.stream_tasks) names.tasks.push_back(task_data.class_names);
            AnalysisDone similarities{class_similarity_points(variant_.config, *described, names, next_)};
            if (!similarities.points.empty()) next_.on_event(similarities);
            return;
        }
        if (const auto* done = std::get_if<EvaluationDone>(&event); done && rank_sweep_)
            rows_.insert(rows_.end(), done->rows.begin(), done->rows.end());
        if (const auto* finished = std::get_if<RunFinished>(&event);
            finished && rank_sweep_ && finished->status == RunStatus::finished) {
            const ExperimentConfig& c = variant_.config;
            const HeadMode mode = primary_head_mode(c);
            try {
                AnalysisDone points{rank_sweep_points(rows_, c.stream.tasks, c.method.rank, mode)};
                if (!points.points.empty()) next_.on_event(points);
            } catch (const std::exception& e) {
                next_.on_event(Warning{"rank sweep: no points for variant '" + variant_.label + "': " + e.what()});
            }
        }
        next_.on_event(event);
    }

private:
    EventListener& next_;
    const ExperimentVariant& variant_;
    bool rank_sweep_;
    const RawDataset& data_;
    std::vector<EvalRow> rows_;  // evaluation rows of the current run
};

// Reports an error that happened before a variant's first run as that run's failure, so that it is
// stored and shown.
void report_failed_run(const ExperimentVariant& variant, const std::string& message, EventListener& events,
                       int run_index = 0) {
    const nlohmann::json effective = to_json(variant.config);
    RunStarted started;
    started.run_index = run_index;
    started.seed = variant.config.seeds.front();
    started.method = variant.config.method.name;
    started.config_json = effective.dump();
    started.config_hash = config_hash(effective);
    started.device = variant.config.device;
    started.torch_version = torch_version();
    started.num_tasks = variant.config.stream.tasks;
    started.facts = run_facts(variant.config);
    events.on_event(started);
    events.on_event(RunFinished{RunStatus::failed, message, 0.0});
}

}  // namespace

RunStatus run_experiment(const ExperimentConfig& config, EventListener& events, CancelToken& cancel,
                         std::shared_ptr<const PreloadedData> preloaded) {
    const nlohmann::json effective = to_json(config);
    ExperimentStarted experiment{config.name, effective.dump(), config_hash(effective), config.seeds, {}};
    std::vector<ExperimentVariant> variants;
    std::string expand_error;
    try {
        variants = expand_variants(config);
    } catch (const std::exception& e) {
        expand_error = e.what();
    }
    if (has_variants(config))
        for (const auto& v : variants) experiment.variants.push_back(v.label);
    events.on_event(experiment);
    if (!expand_error.empty()) {
        ExperimentVariant base;
        base.config = config;
        report_failed_run(base, expand_error, events);
        events.on_event(ExperimentFinished{RunStatus::failed});
        return RunStatus::failed;
    }
    const int threads = configure_threads(config.threads);
    log::debug("LibTorch " + torch_version() + " with " + std::to_string(threads) + " intra-op threads");

    RawDataset raw;
    nlohmann::json loaded_data;  // the data section `raw` was loaded for (null = nothing loaded)
    RunStatus overall = RunStatus::finished;
    for (const ExperimentVariant& variant : variants) {
        const ExperimentConfig& c = variant.config;
        if (!variant.label.empty())
            log::info("variant " + std::to_string(variant.index + 1) + "/" + std::to_string(variants.size()) + ": " +
                      variant.label);
        VariantRunListener tagged(events, variant, variant.rank_varies, raw);
        // Image folders decode to the backbone's size and channels: both sections key the loaded data.
        const nlohmann::json data_section = dataset_key(c);
        if (preloaded && loaded_data != data_section && preloaded->key == data_section) {
            raw = preloaded->raw;
            loaded_data = data_section;
        }
        preloaded.reset();  // only the first variant's data is preloaded; later ones load their own
        if (loaded_data != data_section) {
            try {
                const auto start = std::chrono::steady_clock::now();
                raw = load_raw_dataset(c);
                loaded_data = data_section;
                log::debug(
                    "data set loaded in " +
                    std::to_string(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()) +
                    " s");
            } catch (const std::exception& e) {
                report_failed_run(variant, e.what(), tagged);
                overall = RunStatus::failed;
                loaded_data = nullptr;
                continue;
            }
        }
        bool cancelled = false;
        for (size_t i = 0; i < c.seeds.size(); ++i) {
            RunStatus s = run_stream(RunRequest{c, raw, static_cast<int>(i), c.seeds[i]}, tagged, cancel);
            if (s == RunStatus::cancelled) {
                cancelled = true;
                break;
            }
            if (s == RunStatus::failed) overall = RunStatus::failed;
        }
        if (cancelled) {
            overall = RunStatus::cancelled;
            break;
        }
    }
    events.on_event(ExperimentFinished{overall});
    return overall;
}

RunStatus run_experiment_job(const ExperimentStarted& experiment, const ExperimentVariant& variant, int seed_index,
                             bool rank_sweep, int threads, EventListener& events, CancelToken& cancel) {
    events.on_event(experiment);
    const ExperimentConfig& c = variant.config;
    const int used = configure_threads(threads > 0 ? threads : c.threads);
    log::debug("LibTorch " + torch_version() + " with " + std::to_string(used) + " intra-op threads");
    RawDataset raw;
    VariantRunListener tagged(events, variant, rank_sweep || variant.rank_varies, raw);
    RunStatus status = RunStatus::failed;
    bool loaded = false;
    try {
        raw = load_raw_dataset(c);
        loaded = true;
    } catch (const std::exception& e) {
        report_failed_run(variant, e.what(), tagged, seed_index);
    }
    if (loaded) status = run_stream(RunRequest{c, raw, seed_index, c.seeds.front()}, tagged, cancel);
    events.on_event(ExperimentFinished{status});
    return status;
}

}  // namespace lorica
