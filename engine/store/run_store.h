#pragma once
// RunStore: the SQLite results database of experiments, runs and everything they measured.
//
// Purpose: the trainer's events are written here (through StoreListener, store_listener.h) and read
// back by the CLI, the GUI and the metrics code. One file holds many experiments; each run's rows
// (tasks, step metrics, accuracy rows, per-class rows, method state, analysis points, artifacts) are
// keyed by the run id. The schema is versioned and migrated on open (schema.h).
//
// Concurrency: the database runs in WAL journal mode, so readers in other processes (a GUI, a
// `lorica-cli runs` call) read a consistent snapshot while a training process writes. Within one
// process a RunStore is thread-safe: every call takes an internal mutex (writes are short batched
// transactions, so readers wait at most one batch). Prepared statements are cached and reused.
//
// Crash recovery: a run whose writer died leaves status "running". `open` marks such runs
// "interrupted" (with ended_at = now) when they were written on this host by a process that no longer
// exists; their rows stay readable.
//
// Errors: SQLite failures throw DatabaseError (sqlite_db.h), naming the file and the SQL step.
//
// Files: opening, lifetime, raw access and helpers run_store.cpp; writers run_writes.cpp (64-step loss
// blocks: step_block_summaries.cpp); readers of experiments and runs run_reads.cpp, of a run's rows
// run_row_reads.cpp; crash recovery interrupted_runs.cpp; paged listing run_listing.cpp; curves
// step_curve.cpp; the connection, lock and statement cache they share run_store_impl.h.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/run_batch.h"
#include "engine/store/run_listing.h"
#include "engine/store/run_records.h"
#include "engine/store/step_curve.h"
#include "engine/vocabulary/events.h"

namespace lorica {

class Database;

class RunStore {
public:
    // Opens (creating the file and its parent directories when missing) the results database at
    // `path`: WAL journal mode, synchronous=NORMAL, foreign keys on, busy timeout 5 s; migrates the
    // schema to the latest version; marks dead writers' runs as interrupted. Throws DatabaseError
    // (naming the file) for an unreadable, locked or corrupt file and std::runtime_error for a
    // database written by a newer Lorica.
    static RunStore open(const std::string& path);

    RunStore(RunStore&&) noexcept;
    RunStore& operator=(RunStore&&) noexcept;
    ~RunStore();

    const std::string& path() const;
    int schema_version() const;

    // ---- writers --------------------------------------------------------------------------------

    // New experiment row; returns its id. `created_at` empty = now. `uuid` empty = a new random UUID;
    // a given UUID (uuid.h format, else std::invalid_argument) that an experiment of this database
    // already has returns that experiment's id and writes nothing (jobs of one sweep share one UUID).
    int64_t insert_experiment(const ExperimentStarted& experiment, const std::string& created_at = {},
                              const std::string& uuid = {});

    // New run row for this process: status running, host = host_name(), pid = getpid(),
    // started_at = now, lorica_version = this build, a new random uuid. `experiment_id` 0 = no experiment. Returns its id.
    // Facts left at RunFacts{} are derived from run.config_json (run_facts_json.h).
    int64_t insert_run(int64_t experiment_id, const RunStarted& run);

    // New run row with every field as given (`run.id` is ignored; empty started_at = now; empty
    // uuid = a new random UUID, a malformed one throws std::invalid_argument). For imports and tests.
    // Returns the new id.
    int64_t insert_run(const RunRecord& run);

    // The stream's tasks, plus the foundation task (task_index -1) when it has classes. Replaces the
    // descriptive fields of tasks already stored for this run.
    void insert_tasks(int64_t run_id, const StreamDescribed& stream);

    // Writes every row of `batch` for `run_id` in one transaction (all or nothing).
    void append(int64_t run_id, const RunBatch& batch);

    // One-kind conveniences over `append` (each is one transaction).
    void insert_step_metrics(int64_t run_id, const std::vector<StepMetrics>& steps);
    void insert_evaluation(int64_t run_id, const EvaluationDone& evaluation);
    void insert_method_state(int64_t run_id, const MethodState& state);
    void insert_analysis_points(int64_t run_id, const std::vector<AnalysisPoint>& points);
    void insert_artifact(int64_t run_id, const ArtifactWritten& artifact);

    // Ends a run: status, message (error or reason; may be empty), wall time in seconds, ended_at
    // (empty = now).
    void finish_run(int64_t run_id, RunStatus status, const std::string& message, double seconds = 0.0,
                    const std::string& ended_at = {});

    // Replaces the free-text notes of a run.
    void set_run_notes(int64_t run_id, const std::string& notes);

    // Marks as interrupted every "running" run recorded on this host by a process that no longer
    // exists (kill(pid, 0) fails with ESRCH). Returns how many runs were marked. Called by `open`.
    int mark_interrupted_runs();

    // ---- readers (plain values; ordered by id / insertion) ---------------------------------------

    std::vector<ExperimentRecord> list_experiments() const;
    std::optional<ExperimentRecord> experiment(int64_t id) const;
    std::optional<ExperimentRecord> experiment_by_uuid(const std::string& uuid) const;
    std::vector<RunRecord> list_runs(const RunFilter& filter = {}) const;
    std::optional<RunRecord> run(int64_t id) const;
    std::optional<RunRecord> run_by_uuid(const std::string& uuid) const;
    std::vector<RunRecord> runs_of_experiment(int64_t experiment_id) const;

    std::vector<TaskRecord> tasks(int64_t run_id) const;  // ordered by task_index (foundation first)
    std::vector<StepMetrics> step_metrics(int64_t run_id) const;
    std::vector<EvalRecord> eval_rows(int64_t run_id) const;
    std::vector<ClassEvalRecord> class_eval_rows(int64_t run_id) const;
    // Method state grouped back into one MethodState per recorded vector, in recording order.
    std::vector<MethodState> method_state(int64_t run_id) const;
    // Analysis points of a run; `analysis` set keeps only that analysis. Rows whose stored names this build
    // does not know (analysis_keys.h) are skipped.
    std::vector<AnalysisPoint> analysis_points(int64_t run_id,
                                               std::optional<AnalysisKey> analysis = std::nullopt) const;
    std::vector<ArtifactRecord> artifacts(int64_t run_id) const;

    // ---- listing and curves (run_listing.h, step_curve.h) ------------------------------------------

    // A page of the runs matching `filter`, newest first, each with its final class-IL accuracy, in
    // one SQL query (run_listing.cpp). `page.limit` 0 = every matching run.
    RunPage list_run_page(const RunFilter& filter = {}, const RunPageRequest& page = {}) const;

    // Run `run_id`'s per-step `series` downsampled to at most `max_buckets` (≥ 1, else
    // std::invalid_argument) min/max/mean buckets in step order (step_curve.cpp); empty for a run
    // without steps. The loss is read from a covering index (schema v5).
    std::vector<CurveBucket> step_curve(int64_t run_id, StepSeries series = StepSeries::loss,
                                        int max_buckets = 2000) const;

    // ---- raw access -----------------------------------------------------------------------------

    // Runs `fn` on this store's SQLite connection while holding the store's lock: for store modules
    // that need their own SQL (shard_merge.h). No cached statement is mid-step while `fn` runs, so it
    // may ATTACH databases and open transactions; it must leave none open and nothing attached.
    void with_database(const std::function<void(Database&)>& fn) const;

    // ---- helpers --------------------------------------------------------------------------------

    // Current time as ISO-8601 UTC with milliseconds: "2025-01-31T12:34:56.789Z".
    static std::string now_iso8601();
    // This machine's host name (gethostname), "" when unavailable.
    static std::string host_name();

private:
    struct Impl;
    explicit RunStore(std::unique_ptr<Impl> impl);

    std::unique_ptr<Impl> impl_;
};

}  // namespace lorica
