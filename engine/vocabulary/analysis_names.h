#pragma once
// The names of method state and analyses that the engine stores and the front ends draw.
//
// Producers (methods, the experiment runner) and consumers (CLI reports, GUI views, exports) use
// these constants, never string literals, so a rename is a compile error. Accuracies are in percent
// [0, 100]; task indices are 0-based stream task indices; steps are global stream steps.
//
// MethodState keys (MethodState{task, step, key, values}):
//   kStateMagnitudes        values[k] = α_k for every task k ≤ task (SD-LoRA), after each task
//                           (step = the task's last step) and every `method.options.state_every` steps.
//   kStateDirectionResidual values[0] = ‖D_t − Σ_k β_k D_k‖_F of the current (normalised) direction
//                           against the old ones (SD-LoRA), over training steps.
//   kStateRanks             values[k] = rank of task k's live adapter (SD-LoRA-RR/KD, LoRI).
//   kStateTrainableParams   values[0] = trainable backbone/adapter scalars on this task (heads excluded).
//   kStateLoRIASeed         values[k] = seed of the frozen random A of task k's adapter (LoRI; < 2³²,
//                           exact in a double), after each task.
//
// AnalysisPoint{analysis, series, x, y} (emitted with AnalysisDone; stored per run):
//   kAnalysisMergeInterpolation  series "task0", "task1" (the evaluated task), x = λ ∈ [0, 1],
//                                y = accuracy (%) of W(λ) = (1−λ) W_1 + λ W_2 (after task 1).
//   kAnalysisLoRIMerge           series "alone", "cat", "linear"; x = task index, y = accuracy (%).
//   kAnalysisLoRIOverlapA        series "task<i>", x = j, y = normalised ‖A_iᵀ A_j‖ overlap in [0, 1].
//   kAnalysisLoRIOverlapMask     series "task<i>", x = j, y = mask overlap |M_i ∩ M_j| / |M_i ∪ M_j|.
//   kAnalysisRankSweep           series "foundation_forgetting", "downstream_forgetting"
//                                (initial-based, %), x = rank (stored on every run of the sweep).

namespace lorica::names {

inline constexpr const char* kStateMagnitudes = "magnitudes";
inline constexpr const char* kStateDirectionResidual = "direction_residual";
inline constexpr const char* kStateRanks = "ranks";
inline constexpr const char* kStateTrainableParams = "trainable_params";
inline constexpr const char* kStateLoRIASeed = "lori_a_seed";

inline constexpr const char* kAnalysisMergeInterpolation = "merge_interpolation";
inline constexpr const char* kAnalysisLoRIMerge = "lori_merge";
inline constexpr const char* kAnalysisLoRIOverlapA = "lori_overlap_a";
inline constexpr const char* kAnalysisLoRIOverlapMask = "lori_overlap_mask";
inline constexpr const char* kAnalysisRankSweep = "rank_sweep";

}  // namespace lorica::names
