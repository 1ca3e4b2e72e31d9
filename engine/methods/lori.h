#pragma once
// LoRI (2025, arXiv 2504.07448): LoRA with a frozen random A and a trainable,
// optionally sparse B, trained task after task (continual) or one adapter per task and merged.
//
// Per adapted site (method.targets, q,v by default): ΔW = s · B A, s = method.alpha / method.rank,
//   A [r, in]   frozen, PEFT's init U(-1/√in, 1/√in) drawn from a recorded seed
//   B [rows, r] trainable, starts at 0
//
// Registered names (each sets defaults; every option below can still be given in method.options):
//   lori-d       variant d, mode continual:  dense B, one adapter continued through every task
//   lori-s       variant s, mode continual:  sparse B (see below), continued through every task
//   lori-merge   variant d, mode merge:      one adapter per task, the model after task t is the
//                                            merge of adapters 0..t (set variant s for LoRI-S)
//
// LoRI-S, per task, in two training passes (passes_per_task() = 2, each with the task's epochs and
// a fresh optimizer):
//   pass 0  calibration: B trains densely (LoRI-D) from its value at the start of the task, B_start;
//   then    mask = top (1 − sparsity) of |B − B_start| (lori_mask.h; one global threshold by
//           default). For the first task (and every task in merge mode) B_start = 0, so this is
//           LoRI's |B|; in continual mode it is the magnitude of what this task changed, so old
//           tasks' large entries do not claim the new task's budget (a choice: the paper is silent).
//   pass 1  B ← B_start (a fresh B = 0 unless continuing), trained at sparse_lr_multiplier × lr,
//           no weight decay, with the gradient multiplied by the mask in after_backward. With Adam
//           or AdamW, a zero gradient leaves the moments at 0 and the entry exactly unchanged: off-mask
//           entries stay exactly 0 (fresh B) or keep the previous tasks' values (continual).
//   The task's head is reset to its state at the start of the task before pass 1 (option
//   calibration_head = reset | keep), so LoRI-S's head sees the same steps as LoRI-D's.
// Trainable parameters (StateKey::trainable_params): LoRI-D |B|; LoRI-S the mask's entries,
// round((1 − sparsity) · |B|).
//
// Presets lori-d / lori-s / lori-merge: q,v, rank 8, s = 1, AdamW lr 5e-4 without weight decay
// (the default experiment's LoRA lr), so LoRI-S trains B at 5e-3.
//
// Options (method.options):
//   variant               "d" | "s"
//   mode                  "continual" | "merge"
//   a_seed_mode           "shared" (one A for every task) | "per-task" (a new A per task). Default:
//                         shared in continual mode (required there: B continues on the same A),
//                         per-task in merge mode (LoRI's near-orthogonal random subspaces).
//                         Seeds are derived from the run seed: mix_seed(seed, 0x10A10000 + k) mod 2³²
//                         (k = 0 shared, k = task per-task); site i draws from mix_seed(a_seed, i).
//                         Recorded in describe() and as StateKey::lori_a_seed.
//   sparsity              0.9   fraction of B masked out (variant s)
//   mask_granularity      "global" | "per-layer" | "per-matrix"
//   sparse_lr_multiplier  10    lr of pass 1 = multiplier × train.optimizer.lr (the paper's 10×)
//   clip_per_tensor       1.0   clip each B gradient to this L2 norm (0 = off), after masking
//   calibration_head      "reset" | "keep"
//   merge                 "cat" | "linear" (adapter_merge.h): the merge the model runs (merge mode)
//   merge_weight          per-adapter weight w_t; default 0.5 (variant d) / 0.4 (variant s), the
//                         published weights; 0 = uniform 1/(t+1)
//
// Analyses (AnalysisDone, after the last task; names in engine/vocabulary/analysis_keys.h):
//   AnalysisKey::lori_merge        merge mode: series "alone" (each task with only its own adapter, weight
//                             1), "cat", "linear" (every adapter merged with merge_weight); x = task,
//                             y = accuracy % task-IL (class-IL when eval.task_il is off): task-IL
//                             isolates the backbone's interference from the calibration of the
//                             separately trained heads, which class-IL mixes in.
//                             Only adapter terms are swapped, so the weights are restored exactly.
//   AnalysisKey::lori_overlap_a     merge mode: subspace_overlap of the tasks' A, mean over sites.
//   AnalysisKey::lori_overlap_mask  variant s: Jaccard overlap of the tasks' masks, pooled over sites.

#include <memory>
#include <string>
#include <vector>

#include "engine/methods/catalog/lori_options.h"
#include "engine/methods/adapter_merge.h"
#include "engine/methods/adapter_method.h"
#include "engine/methods/lori_mask.h"
#include "engine/model/adapter_targets.h"

namespace lorica {

// Mean squared cosine of the principal angles between the row spaces of A_i [r_i, in] and
// A_j [r_j, in]: ‖Q_iᵀ Q_j‖_F² / min(r_i, r_j) with Q orthonormal bases. 1 for the same subspace,
// about r / in for independent random ones, 0 for orthogonal ones.
double subspace_overlap(const torch::Tensor& A_i, const torch::Tensor& A_j);

// A [rank, in] ~ U(-1/√in, 1/√in) drawn on the CPU from mix_seed(a_seed, site_index), float32.
torch::Tensor lori_random_a(uint64_t a_seed, int64_t site_index, int64_t rank, int64_t in);

class LoRI final : public AdapterMethod {
public:
    // `registered_name` is one of lori-d, lori-s, lori-merge (it picks the defaults).
    LoRI(const ExperimentConfig& config, std::string registered_name);

    std::string name() const override { return name_; }
    void begin_run(MethodContext& ctx) override;
    void begin_task(MethodContext& ctx) override;
    int passes_per_task() const override { return options_.sparse() ? 2 : 1; }
    void begin_pass(MethodContext& ctx, int pass) override;
    std::vector<ParamGroup> parameter_groups(MethodContext& ctx) override;
    void after_backward(MethodContext& ctx) override;
    void end_task(MethodContext& ctx) override;
    std::vector<MethodState> state(const MethodContext& ctx) const override;
    nlohmann::json describe(const MethodContext& ctx) const override;
    // Merge mode with merge = cat: one term per finished task and site, B_t A_t with scale
    // w_t · alpha / r and task t — exactly the installed merge Σ_t w_t s_t B_t A_t, split by task (so a
    // per-task export writes one task's adapter). Otherwise (continual mode, or a linear merge, whose
    // cross terms B_i A_j belong to no single task) the live terms (AdapterSet::from_model).
    AdapterSet adapter_set(const MethodContext& ctx) const override;
    // State: the current adapter ("A.<i>", "B.<i>" per site i), the last calibrated masks ("mask.<i>"),
    // every finished task's masks ("task<t>.mask.<i>", variant s) and adapters ("task<t>.A.<i>",
    // "task<t>.B.<i>", merge mode; meta task_scales), the A seeds and the trainable count. Restoring in
    // merge mode installs the merge of the finished tasks, as end_task left it.
    int state_format() const override { return 1; }
    StateSnapshot save_state(const MethodContext& ctx) const override;
    void restore_state(MethodContext& ctx, const StateSnapshot& state) override;

    const LoRIOptions& options() const { return options_; }
    const std::vector<AdapterSite>& sites() const { return sites_; }
    const std::vector<torch::Tensor>& A() const { return A_; }  // current adapter, per site
    const std::vector<torch::Tensor>& B() const { return B_; }
    const std::vector<torch::Tensor>& masks() const { return masks_; }  // last calibrated masks (variant s)
    const std::vector<std::vector<torch::Tensor>>& task_masks() const { return task_masks_; }
    // Each finished task's adapter per site (merge mode).
    const std::vector<std::vector<AdapterFactors>>& task_adapters() const { return task_adapters_; }
    const std::vector<uint64_t>& a_seeds() const { return a_seeds_; }  // per task
    int64_t trainable_count() const { return trainable_count_; }
    // LoRI-S trains only the mask's entries of B (its groups hold B whole): the cost table's count.
    int64_t learnable_parameters(const MethodContext& ctx, int64_t in_groups) const override {
        return trainable_count_;
    }
    double scale() const { return scale_; }
    double merge_weight() const;

    // Installs the merge of the listed finished tasks' adapters (merge mode) as frozen terms,
    // replacing any installed merge; weights as given.
    void install_merge(const std::vector<int>& tasks, const std::vector<double>& weights, MergeKind kind);

private:
    uint64_t a_seed_for(uint64_t run_seed, int task) const;
    void install_adapter(MethodContext& ctx, uint64_t a_seed);
    void emit_analyses(MethodContext& ctx);

    std::string name_;
    LoRIOptions options_;
    std::vector<AdapterSite> sites_;
    std::vector<int> layer_of_;  // layer index of each site (per-layer masks)
    double scale_ = 1.0;
    std::vector<torch::Tensor> A_, B_, B_start_, masks_;
    bool mask_active_ = false;
    std::vector<torch::Tensor> head_start_;
    std::vector<std::vector<torch::Tensor>> task_masks_;
    std::vector<std::vector<AdapterFactors>> task_adapters_;
    std::vector<uint64_t> a_seeds_;
    int64_t trainable_count_ = 0;
};

}  // namespace lorica
