#pragma once
// One optimizer step of a stream task, the same for the trainer, the training estimate and the
// benchmarks:
//
//   method.before_step(ctx)                      (LoRA-P&M: the step's perturbation)
//   zero_grad
//   forward under train.precision (AutocastScope, precision.h):
//     f = model.features(x)                                     [batch, dim]
//     logits = heads.logits_of(f, head)          current-task   [batch, classes of the head]
//            = heads.logits_upto(f, head)        all-seen       [batch, classes of heads 0..head]
//     loss = cross_entropy(logits, targets)      targets: task_targets() of the batch, int64 [batch]
//   loss += method.regularizer(ctx)              when defined (a 0-dim tensor: EWC-LoRA, O-LoRA)
//   (S · loss).backward()                        S = the scaler's loss scale (1 unless fp16)
//   if every gradient is finite after dividing by S (always, unless fp16):
//     method.after_backward(ctx); clip the global gradient norm to train.grad_clip (when > 0, on the
//     device: the norm is never read back);
//     optimizer step
//   scaler.update()
//   method.after_step(ctx)
//
// The learning rate is the caller's (TaskOptimizer::set_lr_multiplier before the step). The returned
// loss is the unscaled one, still on the device: reading it back (loss_readback.h) is the caller's
// choice, so a GPU is not made to wait every step. The step reads nothing back to the host
// (engine/runtime/host_read.h), except fp16's found-inf flag (grad_scaler.h).

#include <torch/types.h>

#include "engine/config/experiment_config.h"
#include "engine/methods/adapter_method.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/task_preparation.h"

namespace lorica {

// What a step changes: the model and heads (ctx.model / ctx.heads), the method, the loss scale.
struct TrainingParts {
    MethodContext& ctx;  // ctx.model, ctx.heads, ctx.device, ctx.config.train
    AdapterMethod& method;
    GradScaler& scaler;
};

// x: images [batch, channels, size, size] on ctx.device; targets: int64 [batch] on ctx.device.
torch::Tensor train_step(const TrainingParts& parts, const TaskPreparation& task, PassOptimizer& pass,
                         const torch::Tensor& x, const torch::Tensor& targets);

}  // namespace lorica
