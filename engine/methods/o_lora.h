#pragma once
// O-LoRA (Wang et al., "Orthogonal Subspace Learning for Language Model Continual Learning",
// EMNLP 2023 Findings, arXiv 2310.14152): a new LoRA per task, trained with a loss that keeps its A
// orthogonal to the A of every earlier task on the same site; old pairs stay as frozen terms.
//
// Followed: github.com/cmnfriend/O-LoRA, src/uie_trainer_lora.py lines 90-109 (the loss),
// src/peft/tuners/lora.py lines 448-466 and 575-598 (old pairs lora_A/B [r_sum] frozen beside the new
// loranew_A/B, both scaled by lora_alpha / r), src/run_uie_lora.py lines 406-416 (only loranew_*
// trains) and scripts/order_1.sh (λ₁ = 0.5, λ₂ = 0, lr 1e-3).
//
// On every adapted site (method.targets), with s = alpha / r:
//   begin_task   a new pair A_t [r, in] ~ kaiming-uniform(a = √5), B_t = 0 (the released
//                reset_lora_parameters); A_t, B_t and the task's head train; every older pair and W
//                are frozen
//   forward      W x + Σ_{k ≤ t} s · B_k A_k x (the old pairs fold into one cached dense delta,
//                lora_linear.h: the step does not grow with the number of tasks)
//   training     loss = cross-entropy + λ₁ · L_orth + λ₂ · L_2                      (regularizer())
//                L_orth = Σ_sites Σ_ij |(A_old A_tᵀ)_ij|, A_old = [A_0; …; A_{t−1}] [Σ r, in]
//                         (the released abs-sum of torch.mm(lora_A, loranew_A.T), not squared)
//                L_2    = Σ_sites ‖A_t‖_F + ‖B_t‖_F (the released torch.norm(param, p=2) of each
//                         loranew_ parameter: a norm, not its square; B_t = 0 has gradient 0)
//                task 0 has no old A: L_orth = 0; λ₂ = 0 (the default) skips L_2 altogether
//   end_task     the pair is frozen and kept as task t's term (never merged: the released code keeps
//                lora_A/B separate and concatenates the new pair onto them when saving).
// The released code's forward applies the same lora_dropout (0.1) to both pairs' input; here
// method.options has no dropout (0 = the released λ and lr with no dropout on the vision presets).
//
// Options (method.options, engine/methods/catalog/o_lora_options.h): lambda_orth (λ₁, 0.5),
// lambda_l2 (λ₂, 0).
// Storage (storage()): every kept pair, Σ_tasks Σ_sites r · (in + rows) scalars (grows with tasks).
// Per-task export: yes (each pair carries its task; `lorica-cli export --task T`).

#include <string>
#include <vector>

#include "engine/methods/adapter_method.h"
#include "engine/methods/catalog/o_lora_options.h"
#include "engine/model/adapter_targets.h"

namespace lorica {

class OLoRA final : public AdapterMethod {
public:
    explicit OLoRA(const ExperimentConfig& config);

    std::string name() const override { return "o-lora"; }
    void begin_run(MethodContext& ctx) override;
    void begin_task(MethodContext& ctx) override;
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override;
    // λ₁ · L_orth + λ₂ · L_2 as above, 0-dim on ctx.device; undefined when both terms are off.
    torch::Tensor regularizer(MethodContext& ctx) override;
    void end_task(MethodContext& ctx) override;
    nlohmann::json describe(const MethodContext& ctx) const override;
    MethodStorage storage(const MethodContext& ctx) const override;
    // State: every kept pair ("kept<i>.A", "kept<i>.B"; meta kept [{task, site}]) and the trainable
    // count. restore_state installs them as frozen terms again.
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;

    const OLoRAOptions& options() const { return options_; }
    const std::vector<AdapterSite>& sites() const { return sites_; }

    // One finished task's pair on one site (the frozen term's own tensors).
    struct KeptPair {
        int task = 0;
        size_t site = 0;  // index into sites()
        LowRankTerm term;
    };
    const std::vector<KeptPair>& kept() const { return kept_; }

private:
    void rebuild_old_a();  // old_a_ from kept_

    OLoRAOptions options_;
    std::vector<AdapterSite> sites_;
    std::vector<LowRankTerm> current_;  // the current task's pair per site (sites_ order)
    std::vector<KeptPair> kept_;        // task by task, sites in order
    std::vector<torch::Tensor> old_a_;  // per site: [Σ r of kept pairs, in], or undefined
    int64_t trainable_count_ = 0;
};

}  // namespace lorica
