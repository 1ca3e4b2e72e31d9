#pragma once
// What the trainer does before a task's steps, in one place for every caller that trains a task (the
// stream trainer, the set-up panel's training estimate, the benchmarks): the task's stream head, which
// heads train, their learning rate, the optimizer of each pass, and the number of steps.
//
// Per task t (after method.begin_task):
//   prepare_task           every stream head frozen, then the trained heads unfrozen:
//                            current-task loss: head(t) only; all-seen loss: heads 0..head(t)
//                          head lr = optimizer.head_lr, or optimizer.lr when head_lr = 0
//   per pass p (after method.begin_pass(p)):
//     make_pass_optimizer  method.parameter_groups + {"heads", trained heads' parameters, head lr,
//                          optimizer.weight_decay}; a fresh optimizer over them (optimizer_factory.h)
//
// Steps of one pass over n training images: min(ceil(n / batch_size) · epochs, max_steps_per_task
// when > 0); a task trains passes_per_task() such passes.

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "engine/config/experiment_config.h"
#include "engine/methods/adapter_method.h"
#include "engine/model/task_heads.h"
#include "engine/stream/stream_spec.h"
#include "engine/train/optimizer_factory.h"

namespace lorica {

// Optimizer steps of one pass over `images` training images (0 for none), as above.
int64_t pass_steps(const TrainConfig& train, int64_t images);

// train.* as task `task` trains: its epochs are the task's (a data-set stream entry's own epochs, else
// train.epochs: TaskSpec::epochs; a spec without epochs, 0, keeps train.epochs).
TrainConfig task_train_config(const TrainConfig& train, const TaskSpec& task);

// Seed of stream head h: derived_seed(run seed, SeedStream::stream_head, h). The random-init
// evaluation builds the very same heads.
uint64_t head_seed(int64_t run_seed, int head);

// Adds the task's stream head (task.classes.size() classes, seeded with head_seed) unless it exists.
void add_task_head(TaskHeads& heads, const TaskSpec& task, int64_t run_seed, torch::Device device);

// The heads a task trains and how; the loss of its steps (training_step.h) follows `all_seen`.
struct TaskPreparation {
    int head = 0;               // the task's stream head
    bool all_seen = false;      // train.loss == LossScope::all_seen: logits of heads 0..head, class-IL targets
    int64_t target_offset = 0;  // all-seen: heads.offset(head) (class-IL position of local 0); else 0
    std::vector<torch::Tensor> head_params;  // of the trained heads, requires_grad set
    double head_lr = 0.0;                    // optimizer.head_lr, or optimizer.lr when head_lr = 0
};

// Sets the heads' gradient flags (every head frozen, the trained ones unfrozen) and returns what the
// task's passes and steps need. `head` must exist in `heads`.
TaskPreparation prepare_task(TaskHeads& heads, const TrainConfig& train, int head);

// The loss targets of a task's local labels (positions within the task's classes) [N] int64:
// local + target_offset for all-seen, local otherwise.
torch::Tensor task_targets(const TaskPreparation& task, const torch::Tensor& local_labels);

// One pass's optimizer: the method's groups (call after method.begin_pass) plus the heads' group.
struct PassOptimizer {
    std::vector<ParamGroup> groups;        // the method's, then "heads"
    TaskOptimizer optimizer;               // fresh: no moments carried over from the previous pass
    std::vector<torch::Tensor> trainable;  // every parameter of `groups` (unscaled and clipped per step)
};

PassOptimizer make_pass_optimizer(AdapterMethod& method, MethodContext& ctx, const TaskPreparation& task,
                                  const OptimizerConfig& optimizer);

}  // namespace lorica
