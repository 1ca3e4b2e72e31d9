#pragma once
// StoreListener: writes the trainer's events into the results database (RunStore).
//
// Purpose: register one StoreListener with the trainer and every experiment, run, task, step,
// evaluation, method state, analysis point and artifact ends up in SQLite, readable by other
// processes while training runs (WAL).
//
// Event mapping:
//   ExperimentStarted  → experiments row (written at once; its uuid = options.experiment_uuid or new)
//   RunStarted         → runs row: status running, pid = getpid(), host, started_at, Lorica version
//                        (written at once; a run with no ExperimentStarted before it gets an experiment
//                        of its own, named after the method); with options.resume_run_id, that run
//                        continues instead
//   StreamDescribed    → tasks rows, the foundation task as task_index -1 (written at once)
//   TaskStarted, TaskFinished, StepMetrics, EvaluationDone, MethodState, AnalysisDone, ArtifactWritten
//                      → buffered; the buffer is written in ONE transaction when it holds
//                        ≥ `flush_rows` rows or `flush_interval` has passed since the last write
//                        (checked when an event arrives), and always at TaskFinished, RunFinished,
//                        ExperimentFinished and in the destructor
//   RunFinished        → runs.status / message / seconds / ended_at
//   Warning            → logged with spdlog (not stored)
//   FoundationProgress, EpochFinished → not stored (the step metrics carry the same information)
//
// Cost on the training thread: appending to a vector per event; a flush is one transaction of
// prepared, reused INSERT statements (synchronous=NORMAL in WAL mode: no fsync per commit).
//
// Threading: `on_event` follows EventListener's contract (one thread at a time). `flush` may be
// called from any thread; the id getters may be called from any thread at any time.
//
// Errors: a failed write throws from `on_event` (std::runtime_error naming the file, the run and its
// last task and step, and SQLite's message, e.g. "database or disk is full"); the rows of the
// failed batch are dropped, so a later RunFinished can still record the run's end. The destructor
// never throws: it logs. A run still open when the listener is destroyed is marked interrupted.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/vocabulary/event_listener.h"

namespace lorica {

// When the StoreListener writes its buffer.
struct StoreListenerOptions {
    std::size_t flush_rows = 256;                   // write once this many rows are buffered
    std::chrono::milliseconds flush_interval{250};  // ... or this long after the last write
    // UUID of the experiment this listener writes (uuid.h format); "" = a new random one per
    // ExperimentStarted. The jobs of one sweep pass the sweep's experiment UUID, so that their shards
    // merge into one experiment (shard_merge.h); a database that already holds an experiment with this
    // UUID gets its runs added to it.
    std::string experiment_uuid;
    // Id of a run this listener continues (a resume, engine/store/run_resume.h): its RunStarted writes no
    // new run (nor an experiment) but appends to this run, which reopen_run_at_checkpoint already
    // marked running. 0 = every RunStarted is a new run.
    int64_t resume_run_id = 0;
};

class StoreListener final : public EventListener {
public:
    // Writes into `store` (shared with readers in the same process, e.g. the GUI).
    explicit StoreListener(std::shared_ptr<RunStore> store, StoreListenerOptions options = {});
    // Opens (creating when missing) the results database at `path` (RunStore::open).
    explicit StoreListener(const std::string& path, StoreListenerOptions options = {});
    // Flushes the buffer; marks a run that never received RunFinished as interrupted. Never throws.
    ~StoreListener() override;

    StoreListener(const StoreListener&) = delete;
    StoreListener& operator=(const StoreListener&) = delete;

    void on_event(const Event& event) override;

    // Writes the buffered rows now (one transaction). No-op when the buffer is empty.
    void flush();

    // Id of the run being written, or of the last run written; 0 before the first RunStarted.
    int64_t current_run_id() const { return run_id_.load(); }
    // Id of the current (or last) experiment; 0 before the first ExperimentStarted/RunStarted.
    int64_t experiment_id() const { return experiment_id_.load(); }
    // Every run this listener has created, in order.
    std::vector<int64_t> run_ids() const;

    // Rows waiting in the buffer (for tests and diagnostics).
    std::size_t buffered_rows() const;

    const std::shared_ptr<RunStore>& store() const { return store_; }

private:
    void handle(const ExperimentStarted& e);
    void handle(const RunStarted& e);
    void handle(const StreamDescribed& e);
    void handle(const TaskStarted& e);
    void handle(const TaskFinished& e);
    void handle(const FoundationProgress& e);
    void handle(const StepMetrics& e);
    void handle(const EpochFinished& e);
    void handle(const EvaluationDone& e);
    void handle(const MethodState& e);
    void handle(const AnalysisDone& e);
    void handle(const ArtifactWritten& e);
    void handle(const Warning& e);
    void handle(const RunFinished& e);
    void handle(const ExperimentFinished& e);

    bool accepting(const char* what);  // true when a run is open; otherwise warns (once) and drops
    void buffered(std::size_t rows);   // counts rows and flushes when a threshold is reached
    void flush_locked();

    std::shared_ptr<RunStore> store_;
    StoreListenerOptions options_;

    mutable std::mutex mutex_;  // guards everything below except the atomics
    RunBatch pending_;
    std::size_t pending_rows_ = 0;
    std::chrono::steady_clock::time_point last_flush_;
    bool experiment_open_ = false;
    bool run_open_ = false;
    bool warned_no_run_ = false;
    std::vector<int64_t> run_ids_;
    int last_task_ = -1;  // of the last StepMetrics of the current run, for error messages
    int64_t last_step_ = -1;

    std::atomic<int64_t> run_id_{0};
    std::atomic<int64_t> experiment_id_{0};
};

}  // namespace lorica
