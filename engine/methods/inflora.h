#pragma once
// InfLoRA: interference-free low-rank adaptation (Liang & Li, CVPR 2024), after the official code
// liangyanshuo/InfLoRA: methods/inflora.py (`_train` lines 88-209, `update_DualGPM` lines 321-412) and
// models/vit_inflora.py (Attention_LoRA, lines 175-262).
//
// For each task t, on every adapted site (method.targets; the official code and the presets: k and v
// of every block's fused qkv, which share the layer's input):
//   begin_task   F_l = (1/n) Σ x xᵀ [dim, dim] over the input tokens x of each adapted qkv layer l (the
//                block's norm1 output, every token), over the task's training images with the model
//                as it is (old branches in; ctx.task_batches, `feature_batches` of them, 0 = all:
//                inflora.py lines 116-120, vit_inflora.py lines 236-238);
//                A_t = top-r left singular vectors of F_l with the old tasks' subspace taken out,
//                transposed, / √3 (inflora_dual_gpm.h; inflora.py lines 122-158), the same A_t on
//                every site of the layer (A_k and A_v are copies); B_t = 0 [rows, r]
//   training     only B_t trains (with the task's head; A_t, W and old branches frozen: lines 93-108)
//   end_task     B_t frozen (the branch stays in the layer as a frozen term, folded into the dense
//                weight by LoRALinear); F_l again, from the trained model, grows the layer's DualGPM
//                subspace at τ = lamb + (lame − lamb) · t / T (lines 188-200, update_DualGPM)
// The update of a branch is B_t A_t with no scale (vit_inflora.py line 246: k += x (Σ_t B_t A_t)ᵀ), so
// method.alpha is not used. Every row of A_t is orthogonal to the old tasks' subspace, so B_t A_t x = 0
// for an old task's input x in it: training task t does not move the outputs there.
// Random numbers: none (A_t from an SVD, B_t = 0).
// Classifier: the trainer's per-task heads (the official classifier_pool: one nn.Linear per task,
// PyTorch's default init = train.head_init kaiming-uniform, the loss over the current task's logits,
// inference over every head so far) — presets set train.loss current-task and head_init.
// The input tokens are read with the test transform (the trainer's task_batches); the official code
// reads its shuffled training loader (random crops and flips).
//
// Storage (SD-LoRA's Table 5): every branch (A_t, B_t on every site) counts as stored parameters, the
// DualGPM bases as stored features.
// Resume: save_state holds every branch's factors and each layer's basis and projection type.

#include <string>
#include <vector>

#include "engine/methods/adapter_method.h"
#include "engine/methods/catalog/inflora_options.h"
#include "engine/methods/inflora_dual_gpm.h"
#include "engine/model/adapter_targets.h"

namespace lorica {

class InfLoRA : public AdapterMethod {
public:
    explicit InfLoRA(const ExperimentConfig& config);

    std::string name() const override { return "inflora"; }
    void begin_run(MethodContext& ctx) override;
    void begin_task(MethodContext& ctx) override;
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override;
    void end_task(MethodContext& ctx) override;
    nlohmann::json describe(const MethodContext& ctx) const override;
    // stored_params: Σ over branches of A and B scalars; stored_features: Σ over layers of the basis.
    MethodStorage storage(const MethodContext& ctx) const override;

    // State: every branch ("branch<i>.A", "branch<i>.B"; meta branches [{task, site}]) and every
    // layer's basis ("basis<l>"; meta layers [{module, type}]).
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;

    const InfLoRAOptions& options() const { return options_; }
    const std::vector<AdapterSite>& sites() const { return sites_; }
    // The adapted qkv layers in model order (module names) and their subspaces (same order).
    const std::vector<std::string>& layer_modules() const { return layer_modules_; }
    const std::vector<InfLoRASubspace>& subspaces() const { return subspaces_; }
    // F_l of every adapted layer, float64 [dim, dim] on the CPU, from the current model over the
    // current task's images (ctx.task_batches).
    std::vector<torch::Tensor> input_features(MethodContext& ctx) const;

private:
    InfLoRAOptions options_;
    std::vector<AdapterSite> sites_;
    std::vector<int> site_layer_;             // per site: index into layer_modules_
    std::vector<std::string> layer_modules_;  // adapted qkv layers, model order
    std::vector<int> layer_block_;            // per layer: its block index
    std::vector<InfLoRASubspace> subspaces_;  // per layer
    std::vector<torch::Tensor> trainable_;    // the current task's B_t
};

}  // namespace lorica
