#pragma once
// EWC-LoRA (Zheng et al., "Revisiting Weight Regularization for Low-Rank Continual Learning",
// ICLR 2026, arXiv 2602.17559): one shared LoRA update regularised by EWC on the full weight update
// it makes, folded into W after every task, so storage and inference cost stay constant in the
// number of tasks.
//
// Followed: github.com/yaoyz96/low-rank-cl, methods/ewclora.py (EWCLoRA.after_task lines 29-50,
// the penalty in _train_function lines 92-103, FisherComputer lines 136-189) and
// models/vit_ewclora.py (Attention_LoRA: new pair init lines 249-257, ΔW = B A and its gradient hook
// lines 282-293, reset lines 259-267); configs/ewclora/imagenet-r.json for the preset.
//
// On every adapted site (method.targets; the released code adapts k and v of every block), with
// s = alpha / r (the released code has no scale: alpha = r) and ΔW = s · B A [rows, in]:
//   begin_task   a fresh pair A [r, in] ~ kaiming-uniform(a = √5), B = 0 (PEFT's init, as the
//                released reset_new_lora); A and B train with the task's head
//   training     loss = cross-entropy + (λ/2) Σ_sites Σ_ij Ω_ij · ΔW_ij²          (regularizer())
//                Ω [rows, in] per site, none on task 0 (the released count_updates == 0)
//   end_task     F = empirical Fisher of ΔW over the task's training images, the released
//                FisherComputer's: model in eval mode, per batch b of n_b images the gradient G_b of
//                the batch's mean cross-entropy (current task's head, local labels) with respect to
//                the site's full weight (= with respect to ΔW), F = Σ_b n_b · G_b² / Σ_b n_b
//                (the squared gradient of each batch mean, weighted by the batch size; not
//                per-sample squares); fisher_batches > 0 stops after that many batches
//                Ω ← γ · Ω + F   (task 0: Ω = F)
//                fold: W ← W + ΔW on the site's rows, and the pair is dropped (the next task
//                starts a fresh one) (fold = weights, the default). fold = factor-sum is the released code's fold
//                (lora_A += lora_new_A, lora_B += lora_new_B, vit_ewclora.py lines 259-263): one
//                frozen accumulated pair per site, A_acc = Σ A_t, B_acc = Σ B_t, term s·B_acc A_acc,
//                whose product gains the cross terms B_i A_j (i ≠ j), so the model after the fold is
//                not the one that was trained and penalised; the default folds ΔW exactly (the
//                paper's W_t = W_{t-1} + ΔW_t).
// The Fisher's images come from MethodContext::task_batches (the test transform, index order,
// train.batch_size): the released code iterates its shuffled, augmented train loader.
//
// Options (method.options, engine/methods/catalog/ewc_lora_options.h): lambda (1e7), gamma (1),
// fisher_batches (0 = all), fold (weights | factor-sum).
// Storage (storage()): Ω, Σ_sites rows · in scalars, the same after every task; the pair is folded
// (factor-sum: plus the accumulated pair, Σ_sites r · (in + rows)).
// Per-task export: none (the update lives in W); adapter_set() is the live pair during a task.
// Cost: the penalty builds ΔW of every site every step (Σ_sites 2 · r · rows · in flops and a
// [rows, in] temporary), the Fisher one forward and backward per batch of the task's data.

#include <string>
#include <vector>

#include "engine/methods/adapter_method.h"
#include "engine/methods/catalog/ewc_lora_options.h"
#include "engine/model/adapter_targets.h"

namespace lorica {

class EWCLoRA final : public AdapterMethod {
public:
    explicit EWCLoRA(const ExperimentConfig& config);

    std::string name() const override { return "ewc-lora"; }
    void begin_run(MethodContext& ctx) override;
    void begin_task(MethodContext& ctx) override;
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override;
    // (λ/2) Σ_sites Σ Ω ⊙ (s B A)², 0-dim on ctx.device; undefined before the first task ends or at λ = 0.
    torch::Tensor regularizer(MethodContext& ctx) override;
    void end_task(MethodContext& ctx) override;
    nlohmann::json describe(const MethodContext& ctx) const override;
    MethodStorage storage(const MethodContext& ctx) const override;
    // State: Ω of every site ("omega.<i>", [rows, in]), factor-sum's accumulated pairs
    // ("accumulated.<i>.A" / ".B") and meta {tasks_folded, trainable_count, importance_sites,
    // accumulated_sites}.
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;

    const EWCLoRAOptions& options() const { return options_; }
    const std::vector<AdapterSite>& sites() const { return sites_; }
    // Ω per site, in sites() order ([rows, in]); empty before the first task ends.
    const std::vector<torch::Tensor>& importance() const { return omega_; }
    // The empirical Fisher of the current pair's ΔW per site (as end_task computes it), without
    // changing anything; empty when ctx.task_batches is null.
    std::vector<torch::Tensor> fisher(MethodContext& ctx) const;

private:
    void restore_accumulated(MethodContext& ctx, const StateSnapshot& state);  // fold = factor-sum

    EWCLoRAOptions options_;
    std::vector<AdapterSite> sites_;
    std::vector<LowRankTerm> pair_;  // the current task's pair per site (shared handles), sites_ order
    std::vector<torch::Tensor> omega_;
    std::vector<LowRankTerm> accumulated_;  // fold = factor-sum: the frozen summed pair per site (shared handles)
    int tasks_folded_ = 0;
    int64_t trainable_count_ = 0;
};

}  // namespace lorica
