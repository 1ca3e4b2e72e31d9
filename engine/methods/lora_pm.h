#pragma once
// LoRA-P&M: Perturb-and-Merge with LoRA (Qiu, Zhang, Qiao, Nie, "Train with Perturbation, Infer after
// Merging: A Two-Stage Framework for Continual Learning", NeurIPS 2025, arXiv 2505.22389). It extends
// merged incremental LoRA (merged_lora.h): a fresh LoRA pair per task over the merged weights, and at
// the task's end a merge — with the closed-form coefficient α* instead of 1.
//
// The official code (github.com/qhmiao/P-M-for-Continual-Learning) is not reachable from here; this
// follows the paper's Section "Infer after Merging" (closed-form α*), "Train with Perturbation" (the
// symmetric finite difference and its stochastic estimate) and "LoRA-P&M" (the perturbation as the
// LoRA term scaled by 1 ± ε). The equations are written out below in full.
//
// Notation: Ŵ_{t−1} the merged weights before task t (θ̂_{t−1}); the task trains a LoRA pair on every
// adapted site, Δ_t = s B_t A_t [rows, in] (the task vector Δθ_t, s = alpha / r); θ_t* = Ŵ_{t−1} + Δ_t
// its trained weights.
//
// Train with Perturbation. The merge degrades task t by about ½ α² Δ_tᵀ H_t Δ_t; the regulariser
// Δᵀ H Δ ≈ (L(θ + εΔ) + L(θ − εΔ) − 2 L(θ)) / ε² (second-order symmetric difference) is estimated
// without extra passes: each step trains at θ + εΔ with probability p₊, at θ − εΔ with p₋, at θ
// otherwise (p₊ = p₋ = 1/3, ε = 0.5 in the paper), so the expected loss is L(θ) + (ε²/3) ΔᵀHΔ to
// second order. With LoRA θ ± εΔ = Ŵ_{t−1} + (1 ± ε) s B_t A_t: before_step scales the task's terms
// by 1 ± ε, after_step puts s back (nothing else, evaluations included, sees the perturbed weights).
// The gradient of a perturbed step flows through the scaled term (Δ is B_t A_t itself, not a
// constant), as in the regulariser. Only the LoRA update is perturbed: W, the heads are not.
// The choice of a step is a pure function of (run seed, task, step within the task): deterministic,
// and a resumed run (which starts at a task boundary) draws the same perturbations; the global
// generator is untouched.
//
// Infer after Merging. θ̂_t = θ̂_{t−1} + α_t Δ_t with the α minimising the second-order increase of
// every seen task's loss, Σ_{i≤t} ½ (θ̂_t − θ_i*)ᵀ H_i (θ̂_t − θ_i*):
//
//     α_t* = − Σ_{i≤t} (θ̂_{t−1} − θ_i*)ᵀ H_i Δ_t  /  Σ_{i≤t} Δ_tᵀ H_i Δ_t
//
// with H_i the diagonal empirical Fisher F_i of task i at θ_i*, over the adapted weights (every
// site's [rows, in] entries), one global α over all sites (the paper's choice; its per-module variant
// was not better). For t = 0 (the first task) α* = 1. Computed without keeping every task:
//   R_t = Σ_{i<t} F_i ⊙ (θ̂_{t−1} − θ_i*)   and   S_t = Σ_{i≤t} F_i       (per site, [rows, in])
//   α_t* = (Σ F_t ⊙ Δ_t² − Σ R_t ⊙ Δ_t) / Σ S_t ⊙ Δ_t²
//   R_{t+1} = R_t + α_t* S_t ⊙ Δ_t − F_t ⊙ Δ_t
// (sums over all entries of all sites), so the method stores two dense tensors per site whatever the
// number of tasks; lora_pm_coefficient / lora_pm_advance_residual below are exactly these formulas.
//
// The Fisher (the paper: "diagonal empirical Fisher"; which data and how many batches it does not
// say — Lorica's choices): at the end of task t, before the merge, with the task's terms at scale s,
// the model in eval mode (no dropout), over `fisher_batches` batches of the task's training images
// (MethodContext::task_batches: test transform, index order; 0 = all), F_t = mean over batches of
// (∂L_b/∂W)² with L_b the mean cross-entropy of batch b over the current task's head (the last stream
// head) and its local labels. The gradient is the batch's, not per sample (one backward per batch).
//
// After the merge: W ← W + α_t* s B_t A_t, the pair is removed from the layers (merged LoRA's
// end_task), and its factors are kept with scale α_t* s, so adapter_set() (base "foundation")
// reproduces exactly what was merged, task by task. α* is clamped to [0, 1] by default (the paper's
// convex combination; clamp_coefficient = false keeps the closed form as it comes); a zero
// denominator (no curvature seen) merges with α = 1.
//
// Options (method.options, lora_pm_options.h): epsilon 0.5, p_plus 1/3, p_minus 1/3, fisher_batches 0,
// clamp_coefficient true, and merged-lora's alpha_per_rank (2) and dropout (0).
// Recorded: StateKey::trainable_params, and StateKey::magnitudes = α_0*, ..., α_t* after every task.
// Stored (storage()): the kept factors, S and R (2 Σ_sites rows·in) and the coefficients.
// Published (ImageNet-R 10 tasks, ViT-B/16 in21k→in1k): Acc 79.95, AAA 85.29 (LoRA-M, merge without
// perturbation, 78.35).

#include <vector>

#include "engine/methods/catalog/lora_pm_options.h"
#include "engine/methods/merged_lora.h"

namespace lorica {

// α_t* from the task's Fisher F_t, the running S_t (including F_t), R_t and Δ_t, each a list over the
// sites of [rows, in] tensors in the same order; `clamp`: into [0, 1]. 1 when Σ S_t ⊙ Δ_t² is 0.
double lora_pm_coefficient(const std::vector<torch::Tensor>& fisher, const std::vector<torch::Tensor>& fisher_sum,
                           const std::vector<torch::Tensor>& residual, const std::vector<torch::Tensor>& delta,
                           bool clamp);
// R_{t+1} = R_t + α S_t ⊙ Δ_t − F_t ⊙ Δ_t, in place (S_t includes F_t).
void lora_pm_advance_residual(std::vector<torch::Tensor>& residual, const std::vector<torch::Tensor>& fisher,
                              const std::vector<torch::Tensor>& fisher_sum, const std::vector<torch::Tensor>& delta,
                              double alpha);

class LoRAPM final : public MergedLoRA {
public:
    explicit LoRAPM(const ExperimentConfig& config);

    void begin_task(MethodContext& ctx) override;
    void before_step(MethodContext& ctx) override;
    void after_step(MethodContext& ctx) override;
    std::vector<MethodState> state(const MethodContext& ctx) const override;
    nlohmann::json describe(const MethodContext& ctx) const override;
    AdapterSet adapter_set(const MethodContext& ctx) const override;
    MethodStorage storage(const MethodContext& ctx) const override;
    // State: merged LoRA's, plus "pm.S<i>", "pm.R<i>" per site and meta pm {coefficients}.
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;

    const LoRAPMOptions& pm_options() const { return pm_; }
    // α* of every merged task, in task order.
    const std::vector<double>& coefficients() const { return coefficients_; }
    // The perturbation of step `step_in_task` of task `task` for run seed `seed`: +1 (θ + εΔ), −1
    // (θ − εΔ) or 0 (θ), with probabilities p_plus, p_minus and the rest.
    int perturbation(uint64_t seed, int task, int64_t step_in_task) const;
    // The diagonal empirical Fisher of the current task over every site ([rows, in] each), as above.
    std::vector<torch::Tensor> task_fisher(MethodContext& ctx) const;

protected:
    double merge_coefficient(MethodContext& ctx) override;

private:
    void set_term_scale(double factor);  // the current task's terms at scale s · factor

    LoRAPMOptions pm_;
    double base_scale_ = 1.0;
    int64_t step_in_task_ = 0;
    std::vector<torch::Tensor> fisher_sum_;  // S, per site [rows, in]; empty before the first merge
    std::vector<torch::Tensor> residual_;    // R, per site [rows, in]
    std::vector<double> coefficients_;
};

}  // namespace lorica
