#pragma once
// The low-loss-region analysis (SD-LoRA, arXiv 2501.13198, Finding 1), asked for with
// analysis.low_loss_region = true (off by default: it trains one extra copy of the backbone per task).
//
//   W₀     the backbone the stream starts from (after the foundation step or the loaded weights)
//   W*_t   the optimum of task t alone: a copy of W₀ fine-tuned on task t only, with the run's
//          epochs, batch size, optimizer, schedule, precision and seed-derived batches, a fresh head
//          (the stream's head of the task: same seed and train.head_init) and the current-task loss;
//          what it trains is analysis.low_loss_update:
//            lora  a fresh LoRA of method.rank, method.alpha (s = alpha / rank) on method.targets,
//                  merged into W at the end (merged-lora's update = lora, after_task = merge)
//            full  the weights the run's method adapts, trained fully (merged-lora's update = full on
//                  method.targets; full-finetune: every backbone parameter, full-finetune itself)
//   W_t    the continual run's weights after task t (after end_task; adapter terms folded in)
//
// The weights compared are those the method adapts: the rows of method.targets' matrices (a q or v
// slice is its rows of the fused qkv), or every backbone parameter (foundation head excluded) when
// method.name is full-finetune; flattened and concatenated, float32. ‖·‖ is the Frobenius norm of
// that vector (differences and sums in float64 of the float32 weights).
//
// After task t (points of engine/vocabulary/analysis_keys.h, emitted as the task finishes):
//   low_loss_region     task(i), x = j:  ‖W*_i − W*_j‖        for the pairs (t, j) and (j, t), j ≤ t
//                       from_start, x = t: ‖W*_t − W₀‖
//   low_loss_ratio      task(i), x = j:  ‖W*_i − W*_j‖ / ((‖W*_i − W₀‖ + ‖W*_j − W₀‖) / 2)
//                       (same pairs; no point when both distances to W₀ are 0)
//   low_loss_continual  task(i), x = t:  ‖W_t − W*_i‖         for i ≤ t
//                       from_start, x = t: ‖W_t − W₀‖
// A ratio well below 1 says the tasks' optima lie closer to each other than to W₀ (the overlapping
// low-loss region of Finding 1); ‖W_t − W*_i‖ shrinking with t says the continual weights move into it.
//
// Determinism and the continual run: every task's copy draws the same LoRA factors A (B = 0), from
// torch's global generators seeded with derived_seed(seed, SeedStream::low_loss_copy), so the optima
// differ by their tasks and not by their random starts; the generators' states are put back
// afterwards, and the copy has its own model, heads, optimizer and loss scale, so the continual run's
// results are the same with the analysis on or off. W*_t depends only on W₀, the task and the seed.
//
// Measured (sd-lora preset, 500 images per class, 1 epoch = 8 steps per task, seed 0, CPU): ratios
// 1.39–1.46 (near √2: nearly orthogonal task updates; with a seed per task's A the same, 1.38–1.43),
// ‖W_t − W*_i‖ growing from 0.15 to 0.26 over the 5 tasks: Finding 1 does not show at this size.
//
// Resume: the ΔW*_i = W*_i − W₀ of the finished tasks are recomputed (retrained, bit for bit the same)
// rather than carried in the checkpoint: W₀ is read from the run's foundation_backbone.safetensors.
//
// Cost: one extra training of each task (the copy's), and Σ_t |compared| float32 kept on the CPU
// (ViT-B/16, q and v: 14.2 M floats = 57 MB per task; full-finetune: 86 M = 343 MB per task).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/config/experiment_config.h"
#include "engine/data/stream_data.h"
#include "engine/model/backbone.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/events.h"

namespace lorica {

// What the copies train on and with: the run's config, its stream, seed and device.
struct LowLossRegionRun {
    const ExperimentConfig& config;
    const StreamData& data;
    int64_t seed = 0;
    torch::Device device = torch::kCPU;
    CancelToken& cancel;
};

class LowLossRegion {
public:
    // `start` holds W₀ (copied here to the CPU; `start` itself is not kept).
    LowLossRegion(const LowLossRegionRun& run, Backbone start);

    // After the continual run's task t (tasks 0..t−1 already done here, in order): trains W*_t and
    // returns the points above for `continual` = the run's backbone holding W_t.
    std::vector<AnalysisPoint> after_task(int t, Backbone continual);
    // Resume: trains W*_0 .. W*_last again without points (they are in the store already).
    void recompute_optima(int last);

    // The compared weights of `model` (adapter terms folded in), float32 on the CPU, in a fixed order.
    std::vector<torch::Tensor> compared_weights(Backbone model) const;
    // W₀'s compared weights, and ΔW*_i = W*_i − W₀ of every task done (same order).
    const std::vector<torch::Tensor>& start_weights() const { return start_weights_; }
    const std::vector<std::vector<torch::Tensor>>& optimum_deltas() const { return deltas_; }

    // The method config a copy trains with (merged-lora or full-finetune, see above).
    static ExperimentConfig copy_config(const ExperimentConfig& config);

private:
    std::vector<torch::Tensor> train_optimum(int t);  // ΔW*_t

    const ExperimentConfig& config_;
    const StreamData& data_;
    int64_t seed_;
    torch::Device device_;
    CancelToken& cancel_;
    Backbone start_;  // W₀ on the CPU, no adapter terms
    std::vector<torch::Tensor> start_weights_;
    std::vector<std::vector<torch::Tensor>> deltas_;
};

// The analysis of a run, or null when analysis.low_loss_region is off. W₀ = `model` as it is now; or,
// resuming after task `resumed_task` (≥ 0), the run's foundation_backbone.safetensors in `run_dir`
// (loaded into a backbone of `model`'s architecture), and the optima of tasks 0..resumed_task retrained.
std::unique_ptr<LowLossRegion> start_low_loss_region(const LowLossRegionRun& run, Backbone model,
                                                     const std::string& run_dir = "", int resumed_task = -1);

// ‖a − b‖ over the concatenation of the tensors (in float64); b empty = ‖a‖.
double frobenius_distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b);

}  // namespace lorica
