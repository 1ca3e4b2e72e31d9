#pragma once
// Merge interpolation between two solutions of a stream: W(λ) = (1 − λ) W_1 + λ W_2.
//
// A method snapshots the merged weight of every adapted layer (W0 + Σ ΔW_k, [out, in]) at two
// points — for SD-LoRA after task 0's and task 1's hand-over, for sequential LoRA after tasks 0
// and 1 — and, after task index 1, evaluates W(λ) on stream tasks 0 and 1 with the current heads
// (ctx.evaluate_tasks). For SD-LoRA, whose directions are frozen, interpolating the merged weights
// is exactly interpolating the magnitudes (α_1 = 0 at W_1); for sequential LoRA it interpolates the
// two products B A (never A and B separately).
//
// The result is emitted as one AnalysisDone with analysis AnalysisKey::merge_interpolation,
// series "task0" / "task1", x = λ, y = accuracy in percent (class-IL, or task-IL when the stream is
// task-incremental or class-IL is not evaluated). Afterwards every layer's weight and terms are
// restored exactly (bit for bit).
//
// Cost: two dense snapshots per adapted layer ([out, in] each) and `points` evaluations of two tasks.

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/methods/adapter_method.h"

namespace lorica {

// Merged weights [out, in] of the adapted layers, by timm module name (layers without terms are
// not stored: their weight is the frozen W0).
struct WeightSnapshot {
    std::map<std::string, torch::Tensor> merged;
    bool empty() const { return merged.empty(); }
};

WeightSnapshot snapshot_merged_weights(Backbone model);

struct MergeInterpolationOptions {
    int points = 11;                  // λ = 0, 1/(points−1), …, 1 (0 turns the analysis off; 1 → λ = 0 only)
    std::vector<int> tasks = {0, 1};  // evaluated stream tasks (series "task<j>")
};

// Evaluates W(λ) for every λ, emits AnalysisDone through ctx.emit and returns its points.
// Requires ctx.task ≥ max(tasks). Restores the model exactly, also when an evaluation throws.
std::vector<AnalysisPoint> run_merge_interpolation(MethodContext& ctx, const WeightSnapshot& w1,
                                                   const WeightSnapshot& w2,
                                                   const MergeInterpolationOptions& options = {});

}  // namespace lorica
