#pragma once
// Plain value types returned by the results store's readers (run_store.h).
//
// Purpose: the CLI, the GUI and the metrics code read stored experiments and runs as these structs,
// never as SQL rows. Event payloads (EvalRow, StepMetrics, MethodState, ...) are reused from
// engine/vocabulary/events.h where the stored data is exactly an event's content, so what the trainer
// emitted and what the store returns compare field by field.
//
// Timestamps are ISO-8601 UTC strings with milliseconds, e.g. "2025-01-31T12:34:56.789Z"; an empty
// string means "not set" (e.g. `ended_at` of a run still running).

#include <cstdint>
#include <optional>
#include <string>

#include "engine/vocabulary/events.h"

namespace lorica {

// One experiment: a config run for one or more seeds (ExperimentStarted).
struct ExperimentRecord {
    int64_t id = 0;
    std::string name;
    std::string config_json;  // effective config (after presets and overrides)
    std::string config_hash;  // hex digest of config_json
    std::string created_at;   // ISO-8601 UTC
    std::string uuid;         // stable identity across databases (uuid.h); the jobs of a sweep share it
};

// One run: the experiment for one seed (RunStarted ... RunFinished).
struct RunRecord {
    int64_t id = 0;
    int64_t experiment_id = 0;  // 0 when the run belongs to no experiment
    int run_index = 0;          // position in the experiment's seeds
    int64_t seed = 0;
    std::string method;
    std::string config_json;  // effective config of this run
    std::string config_hash;
    std::string lorica_version;  // Lorica version that wrote the run
    std::string torch_version;   // LibTorch version the engine was built with
    std::string device;          // "cpu", "cuda:0", ...
    std::string host;            // host name of the machine that ran it
    int64_t pid = 0;             // process id of the writer on `host`
    std::string started_at;      // ISO-8601 UTC
    std::string ended_at;        // ISO-8601 UTC; empty while running
    RunStatus status = RunStatus::running;
    std::string message;      // error of a failed run, reason of an interrupted one; else empty
    int num_tasks = 0;        // stream tasks (foundation excluded)
    int64_t total_steps = 0;  // planned stream optimizer steps
    std::string notes;        // free text the user attached to the run
    double seconds = 0.0;     // wall time reported by RunFinished, in seconds (0 until finished)
    std::string variant;      // experiment variant label; "" when the experiment has no variants
    int variant_index = 0;    // position of the variant in the experiment's expansion
    std::string sweep_field;  // swept config field ("method.rank"); "" unless from a sweep
    std::string sweep_value;  // its value as JSON text ("4")
    std::string uuid;         // stable identity across databases (uuid.h), written at run start
    // Typed facts of the run (RunStarted::facts; runs.facts_json, run_facts_json.h): what the front
    // ends read instead of parsing config_json. Derived from config_json for runs stored before them.
    RunFacts facts;
};

// The fields a RunStarted event carries (identity, config, device, size, variant, facts), status running;
// id, experiment, versions, host, pid and times are the store's to fill.
RunRecord run_record_from(const RunStarted& started);

// Which runs `RunStore::list_runs` returns. Empty fields do not filter.
struct RunFilter {
    std::string method_contains;           // case-insensitive substring of the method name
    std::optional<RunStatus> status;       // exact status
    std::optional<int64_t> experiment_id;  // runs of one experiment
    // Start-time window, ISO-8601 UTC, compared as text on the common prefix: "2025-01-31" or a full
    // timestamp. `since` is inclusive (started_at >= since); `until` is inclusive of its whole
    // prefix ("2025-01-31" includes every run started that day).
    std::string since;
    std::string until;
};

// One task of a run's stream (StreamDescribed), with what TaskStarted/TaskFinished added.
struct TaskRecord {
    int64_t run_id = 0;
    TaskInfo info;                     // info.task == kFoundationTask (-1) for the foundation task
    int64_t planned_steps = 0;         // TaskStarted::steps (0 until the task started)
    int64_t trainable_parameters = 0;  // TaskStarted::trainable_parameters
    double seconds = 0.0;              // TaskFinished::seconds (0 until the task finished)
};

// One accuracy measurement of a run (an element of the accuracy matrix, with its sample counts).
struct EvalRecord {
    int64_t run_id = 0;
    EvalRow row;
};

// Per-class counts of one evaluation of a run.
struct ClassEvalRecord {
    int64_t run_id = 0;
    ClassEvalRow row;
};

// A file a run produced (ArtifactWritten).
struct ArtifactRecord {
    int64_t run_id = 0;
    std::string kind;  // e.g. "foundation_checkpoint", "adapter_export"
    std::string path;
    std::string meta_json;
    std::string created_at;  // ISO-8601 UTC, when the store received the event
};

}  // namespace lorica
