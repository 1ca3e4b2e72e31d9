#include "engine/services/run_resume.h"

#include <cerrno>
#include <filesystem>
#include <signal.h>

#include "engine/data/raw_dataset.h"
#include "engine/methods/method_registry.h"
#include "engine/store/run_resume.h"
#include "engine/store/run_store.h"
#include "engine/store/sweep_summary.h"
#include "engine/runtime/device.h"
#include "engine/services/preflight.h"
#include "engine/services/preloaded_data.h"
#include "engine/train/resume_point.h"
#include "engine/train/stream_trainer.h"
#include "engine/util/log.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

std::string run_name(int64_t id) { return "run " + std::to_string(id); }

bool writer_alive(const RunRecord& run) {
    if (run.host != RunStore::host_name()) return true;  // cannot tell: assume it runs
    return run.pid > 0 && (::kill(static_cast<pid_t>(run.pid), 0) == 0 || errno != ESRCH);
}

// Forwards every event; RunFinished's message says the run was resumed (then the failure, if any).
// For a run of a method.rank sweep it adds the rank-sweep points before a finished RunFinished, from
// the rows the store kept and those of the resumed tasks (as experiment_runner.cpp does for a whole run).
class ResumedRunListener final : public EventListener {
public:
    ResumedRunListener(EventListener& next, std::string note, const ExperimentConfig& config, bool rank_sweep,
                       std::vector<EvalRow> kept_rows)
        : next_(next), note_(std::move(note)), config_(config), rank_sweep_(rank_sweep), rows_(std::move(kept_rows)) {}
    void on_event(const Event& event) override {
        if (const auto* done = std::get_if<EvaluationDone>(&event); done && rank_sweep_)
            rows_.insert(rows_.end(), done->rows.begin(), done->rows.end());
        if (const auto* finished = std::get_if<RunFinished>(&event)) {
            if (rank_sweep_ && finished->status == RunStatus::finished) {
                const HeadMode mode =
                    config_.stream.task_incremental || !config_.eval.class_il ? HeadMode::task_il : HeadMode::class_il;
                try {
                    AnalysisDone points{rank_sweep_points(rows_, config_.stream.tasks, config_.method.rank, mode)};
                    if (!points.points.empty()) next_.on_event(points);
                } catch (const std::exception& e) {
                    next_.on_event(Warning{std::string("rank sweep: no points: ") + e.what()});
                }
            }
            RunFinished tagged = *finished;
            tagged.message = note_ + (finished->message.empty() ? "" : "; " + finished->message);
            next_.on_event(tagged);
            return;
        }
        next_.on_event(event);
    }

private:
    EventListener& next_;
    std::string note_;
    const ExperimentConfig& config_;
    bool rank_sweep_;
    std::vector<EvalRow> rows_;
};

}  // namespace

std::string ResumePlan::message() const {
    const std::string dir = fs::path(task_dir).filename().string();
    return "resumed after task " + std::to_string(after_task() + 1) + " of " + std::to_string(run.num_tasks) +
           " (from " + dir + "/, the run was " + to_string(run.status) + ")";
}

ResumePlan plan_resume(const RunStore& store, int64_t run_id, std::optional<int> after_task) {
    const auto run = store.run(run_id);
    if (!run) throw ResumeError("no " + run_name(run_id) + " in " + store.path() + " (see `lorica-cli runs`)");
    const std::string name = run_name(run_id);
    switch (run->status) {
        case RunStatus::finished:
            throw ResumeError(name + " finished: there is nothing to resume");
        case RunStatus::running:
            if (writer_alive(*run))
                throw ResumeError(name + " is still running (pid " + std::to_string(run->pid) + " on " +
                                  (run->host.empty() ? std::string("an unknown host") : run->host) +
                                  "); stop it first, or resume it where it runs once it is interrupted");
            break;
        default:
            break;
    }
    const auto checkpoints = run_checkpoints(store, run_id);
    if (checkpoints.empty())
        throw ResumeError(name +
                          " has no task checkpoint (it stopped during its first task, or its checkpoints were "
                          "not written): start it again with `lorica-cli run`");
    const RunCheckpointRecord* chosen = &checkpoints.back();
    if (after_task) {
        chosen = nullptr;
        std::string have;
        for (const auto& c : checkpoints) {
            if (c.task == *after_task) chosen = &c;
            have += (have.empty() ? "" : ", ") + std::to_string(c.task);
        }
        if (!chosen)
            throw ResumeError(name + " has no checkpoint after task index " + std::to_string(*after_task) +
                              " (checkpoints after task indices: " + have + ")");
    }

    ResumePlan plan;
    plan.run = *run;
    plan.task = chosen->task;
    plan.task_dir = chosen->dir;
    try {
        plan.point = std::make_shared<const ResumePoint>(read_resume_point(chosen->dir));
    } catch (const CheckpointFileError& e) {
        throw ResumeError(name + ": cannot resume from its checkpoint: " + e.what());
    }
    const std::string state_file = (fs::path(chosen->dir) / kResumeStateFile).string();
    const ResumeState& s = plan.point->state;

    nlohmann::json document = nlohmann::json::parse(run->config_json, nullptr, false);
    if (document.is_discarded())
        throw ResumeError(name + ": its stored config (runs.config_json in " + store.path() + ") is not JSON");
    try {
        plan.config = preflight_config(document);
    } catch (const std::exception& e) {
        throw ResumeError(name + ": its stored config is not valid in this Lorica: " + e.what());
    }
    nlohmann::json reread = to_json(plan.config);
    reread["seeds"] = {run->seed};
    const std::string hash = config_hash(reread);
    if (hash != run->config_hash)
        throw ResumeError(name + ": its config reads differently in this Lorica (config hash " + hash + ", the run's " +
                          run->config_hash + "): the run cannot be continued with this build");
    if (s.config_hash != run->config_hash)
        throw ResumeError(name + ": " + state_file + " belongs to config " + s.config_hash + ", the run's config is " +
                          run->config_hash);
    if (s.seed != run->seed)
        throw ResumeError(name + ": " + state_file + " belongs to seed " + std::to_string(s.seed) +
                          ", the run's seed is " + std::to_string(run->seed));
    if (s.task != chosen->task)
        throw ResumeError(name + ": " + state_file + " is the state after task index " + std::to_string(s.task) +
                          ", its directory says " + std::to_string(chosen->task));
    std::unique_ptr<AdapterMethod> method;
    try {
        method = make_method(plan.config);
    } catch (const std::exception& e) {
        throw ResumeError(name + ": " + e.what());
    }
    if (s.method != method->name())
        throw ResumeError(name + ": " + state_file + " holds the state of method '" + s.method + "', the run's is '" +
                          method->name() + "'");
    if (s.method_format != method->state_format())
        throw ResumeError(name + ": " + state_file + " holds " + s.method + " state format " +
                          std::to_string(s.method_format) + "; this Lorica's " + method->name() + " reads format " +
                          std::to_string(method->state_format()) + " (its state changed: the run cannot be continued)");
    return plan;
}

RunStatus resume_run(const ResumePlan& plan, RunStore& store, std::shared_ptr<const PreloadedData> data,
                     EventListener& events, CancelToken& cancel, int threads) {
    const ExperimentConfig& config = plan.config;
    const int used = configure_threads(threads > 0 ? threads : config.threads);
    log::debug("LibTorch " + torch_version() + " with " + std::to_string(used) + " intra-op threads");
    RawDataset raw;
    if (data && data->key == dataset_key(config))
        raw = data->raw;
    else
        raw = load_raw_dataset(config);
    reopen_run_at_checkpoint(store, plan.run.id,
                             RunReopening{plan.after_task(), plan.point->state.step, plan.point->state.analysis_points,
                                          plan.message() + ", running"});
    // What the stopped process left of later task checkpoints (no longer referenced by the store).
    for (int j = plan.after_task() + 1; j < plan.run.num_tasks; ++j) {
        std::error_code ec;
        fs::remove_all(fs::path(plan.point->run_dir) / ("task_" + std::to_string(j)), ec);
    }
    log::info(run_name(plan.run.id) + ": " + plan.message());
    const bool rank_sweep = plan.run.sweep_field == "method.rank";
    std::vector<EvalRow> kept;
    if (rank_sweep)
        for (const auto& r : store.eval_rows(plan.run.id)) kept.push_back(r.row);
    ResumedRunListener tagged(events, plan.message(), config, rank_sweep, std::move(kept));
    return run_stream(RunRequest{config, raw, plan.run.run_index, plan.run.seed, plan.point.get()}, tagged, cancel);
}

}  // namespace lorica
