#include "engine/store/store_listener.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <utility>
#include <variant>

namespace lorica {

StoreListener::StoreListener(std::shared_ptr<RunStore> store, StoreListenerOptions options)
    : store_(std::move(store)), options_(options), last_flush_(std::chrono::steady_clock::now()) {
    if (!store_) throw std::invalid_argument("StoreListener: no RunStore given");
}

StoreListener::StoreListener(const std::string& path, StoreListenerOptions options)
    : StoreListener(std::make_shared<RunStore>(RunStore::open(path)), options) {}

StoreListener::~StoreListener() {
    std::lock_guard lock(mutex_);
    try {
        flush_locked();
    } catch (const std::exception& e) {
        spdlog::error("results database '{}': buffered rows lost at shutdown: {}", store_->path(), e.what());
    }
    if (!run_open_) return;
    try {
        store_->finish_run(run_id_.load(), RunStatus::interrupted, "the run's events ended without RunFinished");
    } catch (const std::exception& e) {
        spdlog::error("results database '{}': could not mark run {} interrupted: {}", store_->path(), run_id_.load(),
                      e.what());
    }
}

void StoreListener::on_event(const Event& event) {
    std::lock_guard lock(mutex_);
    std::visit([this](const auto& e) { handle(e); }, event);
}

void StoreListener::flush() {
    std::lock_guard lock(mutex_);
    flush_locked();
}

std::vector<int64_t> StoreListener::run_ids() const {
    std::lock_guard lock(mutex_);
    return run_ids_;
}

std::size_t StoreListener::buffered_rows() const {
    std::lock_guard lock(mutex_);
    return pending_rows_;
}

void StoreListener::flush_locked() {
    last_flush_ = std::chrono::steady_clock::now();
    if (pending_rows_ == 0) return;
    RunBatch batch = std::move(pending_);
    const std::size_t rows = pending_rows_;
    pending_.clear();
    pending_rows_ = 0;
    try {
        store_->append(run_id_.load(), batch);
    } catch (const std::exception& e) {
        // Where the run was, for the run's failure message (the SQLite message names the file).
        std::string where = "run " + std::to_string(run_id_.load());
        if (last_step_ >= 0) where += ", task " + std::to_string(last_task_) + ", step " + std::to_string(last_step_);
        spdlog::error("results database '{}': {} row(s) of {} not written: {}", store_->path(), rows, where, e.what());
        throw std::runtime_error("results database '" + store_->path() + "': " + std::to_string(rows) + " row(s) of " +
                                 where + " not written: " + e.what());
    }
}

bool StoreListener::accepting(const char* what) {
    if (run_open_) return true;
    if (!warned_no_run_) {
        spdlog::warn("results database '{}': {} outside a run (no RunStarted before it) is not stored", store_->path(),
                     what);
        warned_no_run_ = true;
    }
    return false;
}

void StoreListener::buffered(std::size_t rows) {
    pending_rows_ += rows;
    if (pending_rows_ >= options_.flush_rows ||
        std::chrono::steady_clock::now() - last_flush_ >= options_.flush_interval)
        flush_locked();
}

// ---- lifecycle ----------------------------------------------------------------------------------

void StoreListener::handle(const ExperimentStarted& e) {
    flush_locked();
    experiment_id_ = store_->insert_experiment(e, {}, options_.experiment_uuid);
    experiment_open_ = true;
}

void StoreListener::handle(const RunStarted& e) {
    flush_locked();
    if (run_open_) {
        spdlog::warn(
            "results database '{}': run {} got no RunFinished before the next run started; marking it "
            "interrupted",
            store_->path(), run_id_.load());
        run_open_ = false;
        store_->finish_run(run_id_.load(), RunStatus::interrupted, "a new run started before this one finished");
    }
    if (options_.resume_run_id > 0) {
        const auto resumed = store_->run(options_.resume_run_id);
        if (!resumed)
            throw std::runtime_error("results database '" + store_->path() + "': no run " +
                                     std::to_string(options_.resume_run_id) + " to resume");
        experiment_id_ = resumed->experiment_id;
        experiment_open_ = true;
        last_task_ = -1;
        last_step_ = -1;
        run_id_ = resumed->id;
        run_ids_.push_back(resumed->id);
        run_open_ = true;
        warned_no_run_ = false;
        last_flush_ = std::chrono::steady_clock::now();
        return;
    }
    if (!experiment_open_) {
        ExperimentStarted implicit;
        implicit.name = e.method;
        implicit.config_json = e.config_json;
        implicit.config_hash = e.config_hash;
        implicit.seeds = {e.seed};
        experiment_id_ = store_->insert_experiment(implicit, {}, options_.experiment_uuid);
        experiment_open_ = true;
    }
    last_task_ = -1;
    last_step_ = -1;
    const int64_t id = store_->insert_run(experiment_id_.load(), e);
    run_id_ = id;
    run_ids_.push_back(id);
    run_open_ = true;
    warned_no_run_ = false;
    last_flush_ = std::chrono::steady_clock::now();
}

void StoreListener::handle(const StreamDescribed& e) {
    if (!accepting("StreamDescribed")) return;
    store_->insert_tasks(run_id_.load(), e);
}

void StoreListener::handle(const TaskStarted& e) {
    if (!accepting("TaskStarted")) return;
    pending_.task_starts.push_back(e);
    buffered(1);
}

void StoreListener::handle(const TaskFinished& e) {
    if (!accepting("TaskFinished")) return;
    pending_.task_ends.push_back(e);
    pending_rows_ += 1;
    flush_locked();
}

void StoreListener::handle(const RunFinished& e) {
    if (!run_open_) {
        spdlog::warn("results database '{}': RunFinished without an open run ignored", store_->path());
        return;
    }
    std::exception_ptr flush_error;
    try {
        flush_locked();
    } catch (...) {
        flush_error = std::current_exception();
    }
    run_open_ = false;  // whatever happens next, the run's events are over
    try {
        store_->finish_run(run_id_.load(), e.status, e.message, e.seconds);
    } catch (const std::exception& error) {
        // The row keeps status running; the next RunStore::open marks it interrupted.
        spdlog::error("results database '{}': the end of run {} ({}{}{}) not recorded: {}", store_->path(),
                      run_id_.load(), to_string(e.status), e.message.empty() ? "" : ": ", e.message, error.what());
        throw;
    }
    if (flush_error) std::rethrow_exception(flush_error);
}

void StoreListener::handle(const ExperimentFinished&) {
    flush_locked();
    experiment_open_ = false;
}

// ---- progress -----------------------------------------------------------------------------------

void StoreListener::handle(const FoundationProgress& e) {
    if (e.from_cache) spdlog::debug("foundation task loaded from cache '{}'", e.checkpoint);
}

void StoreListener::handle(const EpochFinished&) {}

void StoreListener::handle(const StepMetrics& e) {
    if (!accepting("StepMetrics")) return;
    last_task_ = e.task;
    last_step_ = e.step;
    pending_.steps.push_back(e);
    buffered(1);
}

void StoreListener::handle(const EvaluationDone& e) {
    if (!accepting("EvaluationDone")) return;
    pending_.eval_rows.insert(pending_.eval_rows.end(), e.rows.begin(), e.rows.end());
    pending_.class_rows.insert(pending_.class_rows.end(), e.class_rows.begin(), e.class_rows.end());
    buffered(e.rows.size() + e.class_rows.size());
}

void StoreListener::handle(const MethodState& e) {
    if (!accepting("MethodState")) return;
    pending_.method_states.push_back(e);
    buffered(std::max<std::size_t>(1, e.values.size()));
}

void StoreListener::handle(const AnalysisDone& e) {
    if (!accepting("AnalysisDone")) return;
    pending_.analysis_points.insert(pending_.analysis_points.end(), e.points.begin(), e.points.end());
    buffered(e.points.size());
}

void StoreListener::handle(const ArtifactWritten& e) {
    if (!accepting("ArtifactWritten")) return;
    pending_.artifacts.push_back(e);
    pending_.artifact_times.push_back(RunStore::now_iso8601());
    buffered(1);
}

void StoreListener::handle(const Warning& e) {
    if (run_open_)
        spdlog::warn("run {}: {}", run_id_.load(), e.message);
    else
        spdlog::warn("{}", e.message);
}

}  // namespace lorica
