#pragma once
// The adapter-method interface: everything a continual-learning method decides, and nothing else.
//
// The trainer owns the loop (batches, loss, optimizer, evaluation, events); a method owns the
// backbone's trainable state. Per task t the trainer calls, in this order:
//
//   begin_task(ctx)            install / reset this task's adapter terms, set requires_grad
//   for pass p in [0, passes_per_task()):   (1 pass unless the method asks for more)
//     begin_pass(ctx, p)       e.g. LoRI-S: calibrate the mask after the dense pass 0
//     parameter_groups(ctx)    what the optimizer trains on this pass (the trainer adds the heads)
//     ... the task's epochs, with a new optimizer and the lr schedule restarted; for every step:
//         forward, loss, backward, after_backward(ctx), optimizer step ...
//   end_task(ctx)              the task boundary: hand-over, merge into W, drop, calibrate masks ...
//   state(ctx)                 named scalars to record (e.g. SD-LoRA magnitudes), after end_task
//   save_state(ctx)            everything carried to the next task, written with the task checkpoint
//
// Resuming a run after task k (engine/services/run_resume.h): a fresh method gets begin_run on a model
// holding checkpoint k's backbone, then restore_state(ctx, what save_state returned after task k),
// then begin_task(k + 1): from there it must train exactly as the method that was never stopped.
//
// `ctx.evaluate_seen(phase)` lets a method record the accuracy of every seen task around a
// boundary step (SD-LoRA records before_handover / after_handover).
//
// Threading: called on the training thread only. A method holds tensors on `ctx.device`.
//
// Host reads (engine/runtime/host_read.h): nothing called inside a training step — before_step,
// regularizer, after_backward, after_step, step_state — reads a tensor value back to the host, so a
// GPU never waits for the host between steps. Values the front ends need from a step are returned by
// step_state as device tensors and read back with the step losses, in blocks. Task, pass and run
// boundaries (begin_task, begin_pass, end_task, state, save_state, ...) may read.
// Adding a method: its files (engine/methods/<method>.{h,cpp} with the factory make_<id>,
// engine/methods/catalog/<method>_options.{h,cpp} with its options and declaration <id>_declaration()),
// one line LORICA_METHOD(<id>) in engine/methods/catalog/registered_methods.def, its tests and presets.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "engine/config/experiment_config.h"
#include "engine/io/adapter_set.h"
#include "engine/io/resume_state.h"
#include "engine/model/task_heads.h"
#include "engine/model/backbone.h"
#include "engine/vocabulary/events.h"

namespace lorica {

struct ParamGroup {
    std::string name;  // "adapter", "backbone", "magnitudes", ...
    std::vector<torch::Tensor> params;
    double lr = 0.0;
    double weight_decay = 0.0;
};

// What a method keeps between tasks beyond the backbone's own weights (SD-LoRA's Table 5, "stored"),
// in scalars: adapters, masks, magnitudes, bases, Fisher diagonals, snapshots of weights (stored
// parameters), and statistics of features kept for later tasks (stored features: InfLoRA's and
// DualGPM's bases of input features, feature means).
struct MethodStorage {
    int64_t stored_params = 0;
    int64_t stored_features = 0;
};

// One batch of the current task's training data, handed to a method's own pass over it
// (MethodContext::task_batches: InfLoRA's input features, a Fisher after training).
struct TaskBatch {
    torch::Tensor images;  // float [batch, C, H, W] on ctx.device: the test transform, no augmentation
    torch::Tensor labels;  // int64 [batch] on ctx.device: local labels (position in the task's classes)
};

// A step-time record whose values are still on the device (AdapterMethod::step_state): the trainer
// reads `values` back together with the step's loss, in the same block (engine/train/step_loss_log.h),
// and emits MethodState{task, step, key, the values as doubles} right after the step's StepMetrics.
struct PendingMethodState {
    StateKey key = StateKey::magnitudes;
    torch::Tensor values;  // [n] or 0-dim (one value), any floating dtype, on ctx.device, no grad
};

struct MethodContext {
    Backbone model;   // the backbone (ViT or ResNet, model/backbone.h) with the foundation head as `head`
    TaskHeads heads;  // stream heads
    const ExperimentConfig& config;
    int task = 0;  // current task index
    int num_tasks = 0;
    int64_t step = 0;  // global stream step
    torch::Device device = torch::kCPU;
    uint64_t seed = 0;                             // the run's seed
    std::function<void(EvalPhase)> evaluate_seen;  // evaluate all seen tasks + foundation now (emits rows)
    // Evaluates the listed stream tasks with the current weights and heads 0..(current task's head),
    // without emitting anything (for analyses such as merge interpolation). Rows carry after_task =
    // the current task, phase end_of_task.
    std::function<std::vector<EvalRow>(const std::vector<int>& tasks)> evaluate_tasks;
    std::function<void(const Event&)> emit;        // emit any event (MethodState, AnalysisDone, ...)
    std::function<void(const std::string&)> warn;  // emit a Warning event
    // Visits the current task's training images in index order, in batches of train.batch_size (the
    // last one shorter), with the test transform: the same batches on every call, no random numbers
    // drawn. `max_batches` > 0 stops after that many. The model's mode and grad mode are the caller's.
    // Null outside the trainer (method tests set their own).
    std::function<void(int64_t max_batches, const std::function<void(const TaskBatch&)>& visit)> task_batches;
};

class AdapterMethod {
public:
    virtual ~AdapterMethod() = default;

    virtual std::string name() const = 0;

    // Called once, before the first task (after the foundation step).
    virtual void begin_run(MethodContext& ctx) {}
    virtual void begin_task(MethodContext& ctx) = 0;
    // Training passes over each task's data (each runs train.epochs with a fresh optimizer; the
    // global step keeps counting, TaskStarted is emitted once with the steps of all passes).
    virtual int passes_per_task() const { return 1; }
    // Before pass `pass` (0-based) of the current task, after begin_task.
    virtual void begin_pass(MethodContext& ctx, int pass) {}
    virtual std::vector<ParamGroup> parameter_groups(MethodContext& ctx) = 0;
    // After loss.backward(), before the optimizer step (gradient masks, per-tensor clipping).
    virtual void after_backward(MethodContext& ctx) {}
    // An extra term of every training step's loss (EWC-LoRA's Fisher penalty, O-LoRA's orthogonality
    // and L2 terms): a 0-dim float32 tensor on ctx.device, differentiable in the trained parameters,
    // added to the cross-entropy before backward (training_step.h). Undefined (the default) = none.
    // The trainer never reads it back to the host.
    virtual torch::Tensor regularizer(MethodContext& ctx) { return {}; }
    // Around every training step (training_step.h): before_step before zero_grad and the forward,
    // after_step after the optimizer step (also when an fp16 step was skipped). LoRA-P&M scales its
    // task's term to θ ± εΔ for one step and back (nothing else may see the perturbed weights).
    virtual void before_step(MethodContext& ctx) {}
    virtual void after_step(MethodContext& ctx) {}
    virtual void end_task(MethodContext& ctx) {}
    // True when end_task itself records the task's end_of_task rows (the accuracy-matrix row R[t][·])
    // through ctx.evaluate_seen(EvalPhase::end_of_task), at the point the method defines as the end of
    // the task (SD-LoRA with accuracy_matrix = before-handover: right after training, before the
    // hand-over, as its released code measures); the trainer then does not evaluate after end_task.
    // Default false: the trainer evaluates once end_task has returned.
    virtual bool evaluates_end_of_task() const { return false; }

    // Named scalars after end_task (key → values); recorded as MethodState events.
    virtual std::vector<MethodState> state(const MethodContext& ctx) const { return {}; }
    // Named values recorded during training, after the optimizer step (e.g. SD-LoRA's magnitudes every
    // state_every steps), still on the device: part of the step, so no host read here.
    virtual std::vector<PendingMethodState> step_state(const MethodContext& ctx) const { return {}; }

    // Folds every adapter term into the weights for inference (no-op for methods without terms).
    virtual void merge_for_inference(MethodContext& ctx);

    // A JSON description of the method's state (ranks, terms per task, magnitudes) for export/show.
    virtual nlohmann::json describe(const MethodContext& ctx) const { return nlohmann::json::object(); }

    // Every adapter term the method holds, detached, for checkpoints and PEFT export (io/adapter_set.h).
    // Default: the live LowRankTerms of model.lora_layers() (relative to the live weights). A method
    // that folds its terms into W (merged LoRA) returns its kept factors with `base = "foundation"`; a
    // method with masks (LoRI-S) fills AdapterTerm::mask.
    virtual AdapterSet adapter_set(const MethodContext& ctx) const {
        Backbone model = ctx.model;
        return AdapterSet::from_model(model, name());
    }

    // What the method keeps after the current task (call after end_task). Default: the scalars of
    // adapter_set()'s factors (A, B, mask entries) and magnitudes; a method that keeps more (bases,
    // Fisher diagonals, weight snapshots) or less overrides it.
    virtual MethodStorage storage(const MethodContext& ctx) const;
    // The scalars the current task trained (heads excluded), after end_task, for the cost table.
    // `in_groups` is what the trainer counted in the task's parameter groups (largest pass); a method
    // whose groups hold more than trains (LoRI-S: B whole, its gradient masked) returns its own count.
    virtual int64_t learnable_parameters(const MethodContext& ctx, int64_t in_groups) const { return in_groups; }

    // ---- resume ---------------------------------------------------------------------------------
    // Version of save_state's layout. Bump it whenever the layout changes: a checkpoint written with
    // another version is refused (the resume names the file) instead of being misread.
    virtual int state_format() const = 0;
    // Everything the method carries from task k to task k + 1 (factors, magnitudes, directions' scales,
    // masks, kept factors, snapshots for later analyses, counters), called after end_task(k) and state().
    // Tensors are copied; the backbone's own weights are not part of it (the checkpoint holds them).
    virtual StateSnapshot save_state(const MethodContext& ctx) const = 0;
    // Into a fresh method of the same config, after begin_run on a model holding the checkpoint's
    // backbone: makes the method and the model's adapter terms exactly what they were at save_state.
    // Throws std::runtime_error naming what is missing or does not fit.
    virtual void restore_state(MethodContext& ctx, const StateSnapshot& state) = 0;
};

// Number of scalars in the tensors (for "trainable parameters" reports).
int64_t count_parameters(const std::vector<ParamGroup>& groups);

}  // namespace lorica
