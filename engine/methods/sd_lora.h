#pragma once
// SD-LoRA (ICLR 2025, arXiv 2501.13198) and its variants SD-LoRA-RR and SD-LoRA-KD.
//
// Each finished task k leaves, in every adapted matrix s, a frozen direction D_{k,s} = c_{k,s} B_{k,s} A_{k,s}
// (c = 1/‖B A‖_F, or 1/(‖B‖_F ‖A‖_F) with direction_norm = factors) and one learnable magnitude α_k:
// a single 0-dim tensor shared by the terms of every adapted matrix of every layer
// (LowRankTerm::magnitude). While task t trains, every adapted matrix computes
//
//     W_s = W0_s + Σ_{k<t} α_k D_{k,s} + α_t · s · B_{t,s} A_{t,s}        s = method.alpha / method.rank
//
// with new A_t, B_t (PEFT init, B_t = 0); A_t, B_t, every live α_k and the task's head train, W0 and
// the old factors are frozen. Inference is one merged weight per layer (merge_for_inference).
//
// Registered names (one class; the variants are options with other defaults):
//   sd-lora      rank = method.rank for every task
//   sd-lora-rr   rank reduction: `rank_schedule` defaults to [[0,10],[4,8],[8,6]]
//   sd-lora-kd   after each hand-over, a direction that the old ones reproduce (residual ≤ kd_tau) is
//                dropped and absorbed into the old magnitudes
//
// Adapted matrices: `method.targets` (default q and v of every block: with the fused qkv, the term
// adds to the q rows and to the v rows; k is untouched).
//
// Hand-over (end of task t: α_t s B_t A_t becomes α_t D_t), option `handover`:
//   rescale (default)  α_t ← α_t · s · mean over adapted matrices of 1/c_{t,s} (= ‖B A‖_F with product
//                      norms): the update is preserved exactly where a matrix's norm equals the mean,
//                      nearly continuous otherwise. Taken literally, the hand-over multiplies the
//                      task's update by 1/(s‖B_t A_t‖_F) (2–4× on the tiny ViT), which inflates old
//                      updates and raises forgetting.
//   exact              as rescale, but every matrix's direction is B_{t,s} A_{t,s} / mean_s ‖B_{t,s} A_{t,s}‖
//                      (unit norm on average over the adapted matrices, not in each): the hand-over
//                      preserves every matrix's update exactly.
//   literal            α_t unchanged (the paper's equations read literally).
//   released-code      the published implementation: literal, factor norms, and every magnitude
//                      reset to `magnitude_init` (0.8 there) at each hand-over, i.e. learned
//                      magnitudes are not carried to the next task. It implies carry_magnitudes =
//                      false and direction_norm = factors (contradicting values are a ConfigError);
//                      magnitude_init may be changed.
// The accuracy of every seen task is recorded just before and just after each hand-over
// (EvalPhase::before_handover / after_handover), so the jump is visible for every option. Option
// `accuracy_matrix` says which of the two is the task's accuracy-matrix row (EvalPhase::end_of_task):
//   after-handover (default)  the trainer evaluates after end_task (the same weights as after_handover).
//   before-handover           the released code's: it measures the matrix right after a task's training,
//                             before the next task's set-up normalises the direction and resets the
//                             magnitudes (WuYichen-97/SD-Lora-CL trainer.py lines 75-77: incremental_train,
//                             then eval_task; the hand-over happens in the next task's LoRA_ViT_timm
//                             set-up, backbone/lora.py: magnitudes made anew at 0.8, old directions
//                             divided by ‖B‖‖A‖ in _LoRA_qkv_timm_train.forward). The
//                             measurement before the hand-over is recorded as end_of_task (not repeated
//                             as before_handover) and the one after as after_handover;
//                             evaluates_end_of_task() tells the trainer not to evaluate again.
//
// Ablations (option `ablation`, sd-lora only; sd-lora-rr and sd-lora-kd refuse the option), the paper's
// Table 4 / Finding 1. The released code has no switch for them; what trains besides the adapter is
// as in it: each task's head (the trainer's, loss over the current task's logits), nothing else.
//   none                  SD-LoRA.
//   first-direction-only  task 0 as SD-LoRA (A_0, B_0, α_0, head; its hand-over as `handover` says);
//                         every later task adds no direction: only α_0 and the task's head train
//                         (paper, ImageNet-R: 78.17 / 81.93 Acc / AAA at 5 tasks, 74.82 / 80.63 at 10).
//   single-decoupled      one direction through the stream, W_s = W0_s + α · B_s A_s / n_s (n_s = ‖B_s A_s‖_F,
//                         or ‖B_s‖_F ‖A_s‖_F with direction_norm = factors). Task 0 trains as SD-LoRA's
//                         first task (α s B A: B starts at 0, where B A / ‖B A‖ is undefined) and hands
//                         over as `handover` says; from task 1 on B, A and α train in the decoupled form,
//                         the norm inside the graph (before_step builds each site's α / n_s; after_step
//                         refreshes it for evaluations; the task's end freezes the closed form again).
//                         handover = exact is refused (the direction is normalised per matrix)
//                         (paper: 73.24 / 78.80 at 5 tasks, 70.62 / 76.32 at 10).
//   old-magnitudes-fixed  as SD-LoRA, but at each hand-over the finished direction's magnitude is set to
//                         1 and frozen: old directions enter as 1 · D_k, only the newest α_t trains
//                         (with handover = rescale the function jumps from α_t s ‖B A‖ to 1 there)
//                         (paper: 78.28 / 82.02 at 5 tasks, 74.29 / 79.74 at 10).
// With a one-direction ablation a rank_schedule entry for a task > 0 is refused. carry_magnitudes =
// false resets every trainable magnitude at every task's end (the fixed ones stay 1).
//
// Options (`method.options`; a wrong name or value is a ConfigError naming method.options.<name>):
//   magnitude_init     double > 0, initial α_t of a new task. Default 1.0 (paper); 0.8 with
//                      handover = released-code.
//   carry_magnitudes   bool. true: old α_k keep their learned values into the next task (paper).
//                      false: at each hand-over every live α_k is reset to magnitude_init (released
//                      code). Default true; false with handover = released-code.
//   direction_norm     product | factors. How a finished direction is normalised: 1/‖B A‖_F (paper)
//                      or 1/(‖B‖_F ‖A‖_F) (released code). Default product; factors with
//                      handover = released-code.
//   handover           rescale | literal | released-code | exact (above). Default rescale.
//   rank_schedule      [[first_task, rank], ...], first_task ascending from 0, rank ≥ 1: the rank of the
//                      adapter of task t is the rank of the last entry with first_task ≤ t. Default
//                      [] = method.rank for every task ([[0,10],[4,8],[8,6]] for sd-lora-rr; the
//                      paper's μ = 4, ν = 8, r = 10/8/6). The scale s stays alpha / method.rank.
//   kd_tau             (sd-lora-kd only) double ≥ 0, default 9e-4: drop threshold on the relative
//                      residual ‖D_t − Σ β_k D_k‖_F / ‖D_t‖_F of the new direction (global: over the
//                      concatenation of all adapted matrices, so with unit per-matrix directions it is
//                      the residual divided by √(number of adapted matrices); per-matrix: each matrix's).
//   kd_update          (sd-lora-kd only) function-preserving | paper. On a drop: α_k ← α_k + α_t β_k
//                      (the model's function is unchanged; default) or α_k ← α_k + β_k (as printed).
//   kd_granularity     (sd-lora-kd only) global | per-matrix. global (default; consistent with the
//                      shared magnitudes): one least-squares fit over all adapted matrices, β shared.
//                      per-matrix: one fit per matrix; the direction is dropped only when every
//                      matrix's residual ≤ kd_tau, and matrix s's part α_t β_{k,s} D_{k,s} is folded
//                      into the old term's constant (c_{k,s} ← c_{k,s}(1 + α_t β_{k,s} / α_k); with
//                      kd_update = paper, c_{k,s}(1 + β_{k,s} / α_k)), since α_k is shared.
//   state_every        int ≥ 0, default 8: record magnitudes and the direction residual every this many
//                      global steps (0 = only at task ends).
//   interpolation_points  int ≥ 0, default 11: λ points of the merge interpolation between the
//                      solutions after task 0's and task 1's hand-overs (0 = off).
//   accuracy_matrix    after-handover | before-handover (above). Default after-handover.
//   ablation           (sd-lora only) none | first-direction-only | single-decoupled |
//                      old-magnitudes-fixed (above). Default none.
//
// Recorded (engine/vocabulary/analysis_keys.h; the per-step records are computed on the device and read
// back with the step losses, step_state): StateKey::magnitudes (α_k for every task k ≤ t, 0 for a
// direction dropped by KD; after every task and every state_every steps), StateKey::direction_residual
// (residual of the current direction B_t A_t / ‖B_t A_t‖_F against the live old ones, global
// normalisation as for kd_tau; tasks ≥ 1, every state_every steps and once at the hand-over),
// StateKey::ranks (rank of each task's live adapter, 0 once dropped), and the
// AnalysisKey::merge_interpolation curves (W_1 after task 0's hand-over, W_2 after task 1's).
//
// Magnitudes train with the optimizer's lr and no weight decay (param group "magnitudes").
//
// Presets (resources/presets, all on the default Fashion-MNIST stream with the default experiment's
// data, foundation, epochs and batch size):
//   sd-lora                rank 8, s = 1, AdamW lr 5e-4 (head 2e-3), handover rescale.
//   sd-lora-paper          rank 10, s = 1, Adam lr 5e-4 (the paper's 0.008 is tuned to ViT-B/16 and made
//                          every LoRA method drift on the tiny ViT), magnitudes init 1 and carried,
//                          product norms, handover literal (the paper's equations as written).
//   sd-lora-released-code  rank 10, s = 1, SGD momentum 0.9 lr 0.008 for adapters, magnitudes and head,
//                          no weight decay, handover released-code (reset to 0.8, factor norms), heads
//                          initialised as its SimpleLinear (train.head_init = kaiming-uniform) and the
//                          accuracy matrix measured before the hand-over. Pixels stay normalised
//                          (mean/std) so the cached foundation model is shared.
//   sd-lora-ablation-first-direction-only / -single-decoupled / -old-magnitudes-fixed  as sd-lora-paper
//                          with the ablation (the paper's ablations use its SD-LoRA settings).
//   sd-lora-rr / sd-lora-kd  as sd-lora with the variant's defaults spelled out.

#include <string>
#include <utility>
#include <vector>

#include "engine/methods/catalog/sd_lora_options.h"
#include "engine/methods/adapter_method.h"
#include "engine/methods/direction_algebra.h"
#include "engine/methods/merge_interpolation.h"
#include "engine/model/adapter_targets.h"

namespace lorica {

class SDLoRA final : public AdapterMethod {
public:
    SDLoRA(const ExperimentConfig& config, SDLoRAVariant variant);

    std::string name() const override;
    void begin_run(MethodContext& ctx) override;
    void begin_task(MethodContext& ctx) override;
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override;
    void end_task(MethodContext& ctx) override;
    bool evaluates_end_of_task() const override {
        return options_.accuracy_matrix == AccuracyMatrixPhase::before_handover;
    }
    void before_step(MethodContext& ctx) override;  // single-decoupled: the differentiable α / n_s
    void after_step(MethodContext& ctx) override;   // single-decoupled: α / n_s of the updated factors
    std::vector<MethodState> state(const MethodContext& ctx) const override;
    // Every state_every steps: the magnitudes and (tasks ≥ 1) the current direction's residual, as
    // device tensors (no host read; the trainer reads them back with the step losses).
    std::vector<PendingMethodState> step_state(const MethodContext& ctx) const override;
    nlohmann::json describe(const MethodContext& ctx) const override;
    // State: per task k "task<k>.magnitude" (0-dim), "task<k>.A.<s>", "task<k>.B.<s>" per site s; meta
    // adapters [{task, rank, live, finished, scales[s]}] (a term's constant c, KD's folds included),
    // last hand-over's residual and drop; the merged weights after task 0 ("after_task0.*", in the state after task 0 only: the
    // interpolation at task 1 reads it).
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;

    const SDLoRAOptions& options() const { return options_; }
    // α_k per task (0 for a task whose direction KD dropped), current task included.
    std::vector<double> magnitudes() const;
    torch::Tensor magnitudes_on_device() const;  // the same, float32 [tasks] on the device, no host read
    // Rank of each task's live adapter (0 once dropped).
    std::vector<double> ranks() const;
    // Residual of the current task's normalised direction against the live old directions (global
    // normalisation, see kd_tau); 0 without old directions or with a zero current direction.
    double current_direction_residual() const;
    // The same as a 0-dim float64 tensor on the device, the same bits, with no read through
    // engine/runtime/host_read.h. On a GPU one synchronisation is left inside LibTorch: linalg_eigh of
    // the [K, K] Gram matrix of the fit checks its solver's error flag on the host (direction_algebra.h).
    torch::Tensor current_direction_residual_on_device() const;
    // The last hand-over: whether KD dropped its direction, and the direction's relative residual.
    bool last_handover_dropped() const { return last_dropped_; }
    double last_handover_residual() const { return last_residual_; }

private:
    struct TaskAdapter {
        int task = 0;
        int rank = 0;
        torch::Tensor magnitude;          // 0-dim, shared by every site's term
        std::vector<torch::Tensor> A, B;  // per site (frozen after the hand-over)
        bool live = true;                 // false once KD absorbed it
        bool finished = false;            // hand-over done
    };

    // The label of a task's terms in exported adapter sets; the method finds its terms by
    // LowRankTerm::task (every term it adds is one task's), never by this string.
    std::string tag(int task) const { return "sd-lora-task" + std::to_string(task); }
    LowRankTerm* term_of(int site, int task);  // the task's term at this site (its rows), or null
    const LowRankTerm* term_of(int site, int task) const;
    void remove_terms_of(int task);                                         // from every adapted layer
    FactoredDirection direction_of(const TaskAdapter& adapter) const;       // as stored: c B A per site
    std::vector<double> direction_norms(const TaskAdapter& adapter) const;  // per site, as direction_norm says
    void hand_over(MethodContext& ctx, TaskAdapter& adapter);
    bool one_direction() const;  // ablation first-direction-only or single-decoupled
    void open_single_direction();
    void refresh_single_direction(bool differentiable);
    void close_single_direction();
    void distill(MethodContext& ctx, TaskAdapter& adapter);

    SDLoRAVariant variant_;
    SDLoRAOptions options_;
    double scale_ = 1.0;  // s = alpha / rank of the current term
    std::vector<AdapterSite> sites_;
    std::vector<TaskAdapter> adapters_;  // one per task begun, by task index
    WeightSnapshot after_task0_;
    bool last_dropped_ = false;
    double last_residual_ = 0.0;
    bool single_open_ = false;  // single-decoupled: task 0's direction trains in the decoupled form now
};

}  // namespace lorica
