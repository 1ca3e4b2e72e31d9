#include "engine/train/training_step.h"

#include <torch/torch.h>

#include "engine/train/precision.h"

namespace lorica {

torch::Tensor train_step(const TrainingParts& parts, const TaskPreparation& task, PassOptimizer& pass,
                         const torch::Tensor& x, const torch::Tensor& targets) {
    MethodContext& ctx = parts.ctx;
    const TrainConfig& train = ctx.config.train;
    parts.method.before_step(ctx);
    pass.optimizer.optimizer->zero_grad();
    torch::Tensor loss;
    {
        AutocastScope autocast(train.precision, ctx.device);
        torch::Tensor f = ctx.model->features(x);
        torch::Tensor logits =
            task.all_seen ? ctx.heads->logits_upto(f, task.head) : ctx.heads->logits_of(f, task.head);
        loss = torch::nn::functional::cross_entropy(logits, targets);
    }
    if (torch::Tensor extra = parts.method.regularizer(ctx); extra.defined()) loss = loss + extra;
    parts.scaler.scale(loss).backward();
    if (parts.scaler.unscale(pass.trainable)) {  // false only in fp16, for inf/NaN gradients: skip the update
        parts.method.after_backward(ctx);
        if (train.grad_clip > 0) torch::nn::utils::clip_grad_norm_(pass.trainable, train.grad_clip);
        pass.optimizer.optimizer->step();
    }
    parts.scaler.update();
    parts.method.after_step(ctx);
    return loss;
}

}  // namespace lorica
