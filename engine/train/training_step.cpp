#include "engine/train/training_step.h"

#include <torch/torch.h>

#include "engine/train/precision.h"

namespace lorica {
namespace {

// torch::nn::utils::clip_grad_norm_ with norm_type 2 (LibTorch 2.11, torch/nn/utils/clip_grad.h) without
// its closing `total_norm.item()`, which would make every clipped step wait for the device: the same
// operations in the same order (so the same gradients), the total norm left on the device.
void clip_grad_norm_on_device(const std::vector<torch::Tensor>& parameters, double max_norm) {
    std::vector<torch::Tensor> grads;
    for (const auto& p : parameters)
        if (p.grad().defined()) grads.push_back(p.grad());
    if (grads.empty()) return;
    const double norm_type = 2.0;
    std::vector<torch::Tensor> norms;
    norms.reserve(grads.size());
    for (const auto& g : grads) norms.emplace_back(g.data().norm(norm_type));
    const torch::Tensor total_norm = norms.size() == 1 ? norms[0] : torch::stack(norms).norm(norm_type);
    const torch::Tensor clip_coef = max_norm / (total_norm + 1e-6);
    const torch::Tensor clip_coef_clamped = torch::clamp(clip_coef, std::nullopt, 1.0);
    for (const auto& g : grads) g.data().mul_(clip_coef_clamped);
}

}  // namespace

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
        if (train.grad_clip > 0) clip_grad_norm_on_device(pass.trainable, train.grad_clip);
        pass.optimizer.optimizer->step();
    }
    parts.scaler.update();
    parts.method.after_step(ctx);
    return loss;
}

}  // namespace lorica
