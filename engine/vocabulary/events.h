#pragma once
// Training events: what the engine reports while it runs an experiment.
//
// The trainer runs on its own thread and emits one `Event` at a time to every registered
// `EventListener` (see event_listener.h), synchronously, on the training thread. Listeners must be
// quick (buffer and return) and must not call back into the trainer. The store writes them to SQLite
// in batched transactions, the CLI prints progress lines, the GUI bridge turns them into queued Qt
// signals. Every payload is a plain value type (no tensors, no pointers), so it can be copied
// across threads.
//
// Indices: `task` is the 0-based position in the stream. The foundation (pre-training) task is
// evaluated as `kFoundationTask` (-1). `after_task == -1` means "before the first stream task".
// `step` is the global optimizer step within the run (0 before any stream step).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "engine/vocabulary/analysis_keys.h"
#include "engine/vocabulary/head_mode.h"
#include "engine/vocabulary/run_facts.h"
#include "engine/vocabulary/run_status.h"

namespace lorica {

inline constexpr int kFoundationTask = -1;

// How predictions are made when accuracy is measured (class_il, task_il): head_mode.h.

// When an evaluation was taken.
//  end_of_task     after training task `after_task` (the rows of the accuracy matrix R)
//  in_task         every N steps inside task `after_task + 1` (anytime accuracy)
//  before_task     task j evaluated just before it is trained (R[j-1][j], for forward transfer)
//  random_init     a randomly initialised backbone, recorded once (R_rand for forward transfer)
//  before_handover / after_handover   around a method's task-boundary step (e.g. SD-LoRA)
enum class EvalPhase { end_of_task, in_task, before_task, random_init, before_handover, after_handover };

// RunStatus, its names and parsing: run_status.h.

inline const char* to_string(EvalPhase phase) {
    switch (phase) {
        case EvalPhase::end_of_task:
            return "end_of_task";
        case EvalPhase::in_task:
            return "in_task";
        case EvalPhase::before_task:
            return "before_task";
        case EvalPhase::random_init:
            return "random_init";
        case EvalPhase::before_handover:
            return "before_handover";
        case EvalPhase::after_handover:
            return "after_handover";
    }
    return "?";
}
inline EvalPhase eval_phase_from_string(const std::string& text) {
    for (auto p : {EvalPhase::end_of_task, EvalPhase::in_task, EvalPhase::before_task, EvalPhase::random_init,
                   EvalPhase::before_handover, EvalPhase::after_handover})
        if (text == to_string(p)) return p;
    throw std::invalid_argument("unknown evaluation phase '" + text + "'");
}

// ---- experiment and run lifecycle ---------------------------------------------------------------

// An experiment = one config run for one or more seeds. Emitted once, before the first run.
struct ExperimentStarted {
    std::string name;
    std::string config_json;  // the effective config (after presets and overrides)
    std::string config_hash;  // hex digest of config_json
    std::vector<int64_t> seeds;
    std::vector<std::string> variants;  // labels of the experiment's variants (empty: no variants)
};

// One run = the experiment for one seed.
struct RunStarted {
    int run_index = 0;  // position in ExperimentStarted::seeds
    int64_t seed = 0;
    std::string method;
    std::string config_json;  // effective config of this run (seeds narrowed to `seed`), to store and show
    std::string config_hash;
    std::string device;         // "cpu" or "cuda:0"
    std::string torch_version;  // LibTorch version the engine was built with
    int num_tasks = 0;
    int64_t total_steps = 0;  // stream optimizer steps planned for this run (foundation excluded)
    // The experiment variant this run belongs to (engine/config/experiment_variants.h); "" and 0 when
    // the experiment has no variants. sweep_field/sweep_value: the swept field and its value as JSON
    // text, "" unless the variant comes from a sweep.
    std::string variant;
    int variant_index = 0;
    std::string sweep_field;
    std::string sweep_value;
    // The run's typed facts (method, variant, stream shape, epochs per task, primary head mode, class
    // names), built once from its effective config: front ends read these, never config_json.
    RunFacts facts;
};

struct TaskInfo {
    int task = 0;
    std::string name;          // e.g. "t2: rot180 {3, 7}"
    std::vector<int> classes;  // original data-set labels of this task
    std::string domain;        // domain transform name ("identity" when none)
    int64_t train_samples = 0;
    int64_t test_samples = 0;
};

// Emitted once per run after RunStarted, listing every task of the stream.
struct StreamDescribed {
    std::vector<TaskInfo> tasks;
    TaskInfo foundation;  // task = kFoundationTask; classes empty when there is no foundation task
};

struct TaskStarted {
    int task = 0;
    int64_t steps = 0;  // optimizer steps planned for this task
    int64_t trainable_parameters = 0;
};

struct TaskFinished {
    int task = 0;
    double seconds = 0.0;
};

// ---- training progress --------------------------------------------------------------------------

// The foundation (pre-training) step, or its cache hit.
struct FoundationProgress {
    int64_t step = 0;
    int64_t total_steps = 0;
    double loss = 0.0;
    bool from_cache = false;  // true: loaded from `checkpoint`, no steps taken
    std::string checkpoint;
};

struct StepMetrics {
    int task = 0;
    int epoch = 0;
    int64_t step = 0;          // global stream step, 1-based after the update
    int64_t step_in_task = 0;  // 1-based
    double loss = 0.0;
    double lr = 0.0;       // learning rate of the first parameter group
    double step_ms = 0.0;  // wall time of this optimizer step (forward + backward + update)
};

struct EpochFinished {
    int task = 0;
    int epoch = 0;
    double mean_loss = 0.0;
};

// ---- evaluation ---------------------------------------------------------------------------------

struct EvalRow {
    int after_task = 0;  // -1: before the stream
    int eval_task = 0;   // kFoundationTask for the foundation task
    int64_t step = 0;
    EvalPhase phase = EvalPhase::end_of_task;
    HeadMode head_mode = HeadMode::class_il;
    int64_t correct = 0;
    int64_t total = 0;
};

// Per-class counts of one evaluation (used for the foundation task: which classes were lost).
struct ClassEvalRow {
    int after_task = 0;
    int eval_task = 0;
    int class_id = 0;  // original data-set label
    int64_t correct = 0;
    int64_t total = 0;
    // Samples of this class correct at the previous end-of-task evaluation and wrong now
    // (pred_before == y && pred_after != y); -1 = not recorded (the pre-stream evaluation).
    int64_t newly_wrong = -1;
    // Samples of this class correct at the pre-stream evaluation and wrong now (pred_start == y &&
    // pred_after != y: the "newly wrong" of contextual forgetting, eval/contextual_forgetting.h);
    // -1 = not recorded (the pre-stream evaluation itself, a run resumed from a checkpoint, older runs).
    int64_t lost_since_start = -1;
};

struct EvaluationDone {
    std::vector<EvalRow> rows;
    std::vector<ClassEvalRow> class_rows;
};

// ---- method state and analyses ------------------------------------------------------------------

// A method's named scalars at one point, e.g. StateKey::magnitudes with values α_0..α_t
// (the keys and what their values mean: analysis_keys.h).
struct MethodState {
    int task = 0;
    int64_t step = 0;
    StateKey key = StateKey::magnitudes;
    std::vector<double> values;
};

// One curve point of an analysis (merge interpolation, LoRI merge and overlaps, rank sweeps; see
// analysis_keys.h for each analysis's series, x and y).
struct AnalysisPoint {
    AnalysisKey analysis = AnalysisKey::merge_interpolation;
    SeriesKey series;
    double x = 0.0;
    double y = 0.0;
    bool operator==(const AnalysisPoint&) const = default;
};

struct AnalysisDone {
    std::vector<AnalysisPoint> points;
};

// A file the run produced (foundation checkpoint, adapter export, ...).
struct ArtifactWritten {
    std::string kind;
    std::string path;
    std::string meta_json;
};

struct Warning {
    std::string message;
};

// Last event of a run, whatever its outcome.
struct RunFinished {
    RunStatus status = RunStatus::finished;
    std::string message;  // the error for failed runs, empty otherwise
    double seconds = 0.0;
};

// Last event of an experiment.
struct ExperimentFinished {
    RunStatus status = RunStatus::finished;
};

using Event = std::variant<ExperimentStarted, RunStarted, StreamDescribed, TaskStarted, TaskFinished,
                           FoundationProgress, StepMetrics, EpochFinished, EvaluationDone, MethodState, AnalysisDone,
                           ArtifactWritten, Warning, RunFinished, ExperimentFinished>;

}  // namespace lorica
