#pragma once
// AdamW over flat buffers: the parameters of each group become views into one contiguous buffer
// (their gradients are gathered into a second one, the two moments live in two more), so a step is
// about eight tensor ops per group instead of about eight per parameter: full fine-tuning of the tiny
// ViT has 42 parameter tensors of at most 16k elements, where the per-op cost dominates.
//
// Same arithmetic as torch::optim::AdamW, op for op (decoupled weight decay p·(1 − lr·wd), moments
// mul_/add_/addcmul_, denominator √v / √(1 − β2^t) + eps, step lr / (1 − β1^t), bias corrections in
// double): each element goes through the same float operations, only in larger tensors.
//
// Kept from torch::optim::AdamW:
//   - a parameter without a gradient is skipped (no decay, its step count stays); a group whose
//     parameters all have gradients and equal step counts takes the flat path, any other the
//     per-parameter one (on views of the same buffers: the state stays flat)
//   - lr, weight_decay, betas and eps are read from param_groups() at every step (AdamWOptions), so
//     TaskOptimizer::set_lr_multiplier works unchanged
//
// While the optimizer lives, each parameter's data is a slice of its group's buffer (Tensor::set_data,
// same TensorImpl: modules and methods keep their references). A step bumps the version counter of
// every parameter it updated, as an in-place update through the parameter would (LoRALinear's cache of
// frozen terms keys on versions). The destructor gives every parameter that still aliases a buffer its
// own storage again (same values), so nothing saved afterwards sees the shared buffer; a parameter
// whose data was replaced meanwhile (Module::to another device) is left alone, and a step that finds
// a parameter no longer aliasing its slice throws std::logic_error.
//
// Requirements (std::invalid_argument otherwise): within a group, floating-point tensors of one dtype
// and device; each parameter in one group only; amsgrad off. The optimizer state is not serialisable
// (save/load throw std::logic_error): the trainer builds a fresh optimizer per task and pass, and a
// resumed run restarts at a task boundary.

#include <cstdint>
#include <vector>

#include <torch/optim/adamw.h>
#include <torch/optim/optimizer.h>

namespace lorica {

class FlatAdamW final : public torch::optim::Optimizer {
public:
    // Every group needs AdamWOptions (groups without options take `defaults`).
    FlatAdamW(const std::vector<torch::optim::OptimizerParamGroup>& groups, torch::optim::AdamWOptions defaults);
    ~FlatAdamW() override;
    FlatAdamW(const FlatAdamW&) = delete;
    FlatAdamW& operator=(const FlatAdamW&) = delete;

    torch::Tensor step(LossClosure closure = nullptr) override;

    void save(torch::serialize::OutputArchive& archive) const override;
    void load(torch::serialize::InputArchive& archive) override;

    // Steps taken by parameter `index` of group `group` (tests; torch's AdamWParamState::step).
    int64_t step_count(size_t group, size_t index) const { return flat_.at(group).steps.at(index); }

private:
    struct FlatGroup {
        torch::Tensor params;      // [total] the group's parameters, in group order
        torch::Tensor grads;       // [total] gathered gradients of the last step
        torch::Tensor exp_avg;     // [total] first moment
        torch::Tensor exp_avg_sq;  // [total] second moment
        std::vector<int64_t> offsets, numels;  // of each parameter in the buffers
        std::vector<int64_t> steps;            // per parameter, as torch's per-parameter state
        std::vector<const void*> data;         // each parameter's data pointer into `params`
    };

    void step_flat(FlatGroup& flat, const torch::optim::AdamWOptions& options, const std::vector<torch::Tensor>& params);
    void step_each(FlatGroup& flat, const torch::optim::AdamWOptions& options, const std::vector<torch::Tensor>& params);

    std::vector<FlatGroup> flat_;  // parallel to param_groups()
};

}  // namespace lorica
