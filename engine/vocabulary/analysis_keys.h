#pragma once
// Typed keys of the method state and analyses that the engine stores and the front ends draw.
//
// Producers (methods, the experiment runner, sweep summaries) and consumers (store, CLI reports, GUI
// views, exports) use these enums, never string literals: a rename is a compile error and a switch
// over a key is checked for completeness. The store writes a key's name (`name_of`) and reads it back
// with `parse_*` (an unknown name in an old or foreign database reads as std::nullopt and is skipped
// by the reader). Accuracies are in percent [0, 100]; task indices are 0-based stream task indices;
// steps are global stream steps.
//
// MethodState{task, step, key, values}:
//   StateKey::magnitudes         values[k] = α_k for every task k ≤ task (SD-LoRA), after each task
//                                (step = the task's last step) and every `method.options.state_every` steps.
//   StateKey::direction_residual values[0] = ‖D_t − Σ_k β_k D_k‖_F of the current (normalised) direction
//                                against the old ones (SD-LoRA), over training steps.
//   StateKey::ranks              values[k] = rank of task k's live adapter (SD-LoRA-RR/KD, LoRI).
//   StateKey::trainable_params   values[0] = trainable backbone/adapter scalars on this task (heads excluded):
//                                the scalars of the method's parameter groups (the largest pass), recorded
//                                by the trainer for every method after each task.
//   StateKey::lori_a_seed        values[k] = seed of the frozen random A of task k's adapter (LoRI; < 2³²,
//                                exact in a double), after each task.
// The cost of a run (SD-LoRA's Table 5), recorded by the trainer for every method after each task
// (step = the task's last step; engine/eval/cost_table.h reads them):
//   StateKey::inference_gflops   values[0] = GFLOPs (10⁹ FLOPs, a multiply-add = 2 FLOPs) of one image's
//                                forward pass as the run evaluates after the task: backbone and the
//                                stream heads seen so far (engine/model/flop_count.h).
//   StateKey::stored_params      values[0] = scalars the method keeps after the task beyond the backbone's
//                                weights: adapters, masks, magnitudes, bases, Fisher diagonals, weight
//                                snapshots (AdapterMethod::storage, MethodStorage::stored_params).
//   StateKey::stored_features    values[0] = scalars of feature statistics the method keeps for later
//                                tasks (InfLoRA's / DualGPM's input-feature bases, feature means;
//                                MethodStorage::stored_features).
//   Stored names: "inference_gflops", "stored_params", "stored_features".
//
// AnalysisPoint{analysis, series, x, y} (emitted with AnalysisDone; stored per run):
//   AnalysisKey::merge_interpolation  series task(0), task(1) (the evaluated task), x = λ ∈ [0, 1],
//                                     y = accuracy (%) of W(λ) = (1−λ) W_1 + λ W_2 (after task 1).
//   AnalysisKey::lori_merge           series alone, cat, linear; x = task index, y = accuracy (%).
//   AnalysisKey::lori_overlap_a       series task(i), x = j, y = normalised ‖A_iᵀ A_j‖ overlap in [0, 1].
//   AnalysisKey::lori_overlap_mask    series task(i), x = j, y = mask overlap |M_i ∩ M_j| / |M_i ∪ M_j|.
//   AnalysisKey::rank_sweep           series foundation_forgetting, downstream_forgetting
//                                     (initial-based, %), x = rank (stored on every run of the sweep).
//   AnalysisKey::class_similarity     series task(t), x = foundation class id (data-set label),
//                                     y = Wu–Palmer WordNet similarity in [0, 1] of that class to task t
//                                     (max over the task's classes and domain word), stored once per run
//                                     before the stream (eval/contextual_forgetting.h).
//   AnalysisKey::low_loss_region      (analysis.low_loss_region; engine/train/low_loss_region.h) series
//                                     task(i), x = j, y = ‖W*_i − W*_j‖_F between the optima of tasks i
//                                     and j, each fine-tuned alone from W₀; series from_start, x = i,
//                                     y = ‖W*_i − W₀‖_F. Emitted after each task t for the pairs with t.
//   AnalysisKey::low_loss_ratio       series task(i), x = j, y = ‖W*_i − W*_j‖_F / mean(‖W*_i − W₀‖_F,
//                                     ‖W*_j − W₀‖_F) (no point when both are 0).
//   AnalysisKey::low_loss_continual   series task(i), x = t, y = ‖W_t − W*_i‖_F for the continual run's
//                                     weights W_t after task t (i ≤ t); series from_start, x = t,
//                                     y = ‖W_t − W₀‖_F.
//
// Stored names (stable: databases hold them): "magnitudes", "direction_residual", "ranks",
// "trainable_params", "lori_a_seed"; "merge_interpolation", "lori_merge", "lori_overlap_a",
// "lori_overlap_mask", "rank_sweep", "class_similarity", "low_loss_region", "low_loss_ratio",
// "low_loss_continual"; series "task<i>", "alone", "cat", "linear", "foundation_forgetting",
// "downstream_forgetting", "from_start".

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace lorica {

enum class StateKey : uint8_t {
    magnitudes,
    direction_residual,
    ranks,
    trainable_params,
    lori_a_seed,
    inference_gflops,
    stored_params,
    stored_features
};

enum class AnalysisKey : uint8_t {
    merge_interpolation,
    lori_merge,
    lori_overlap_a,
    lori_overlap_mask,
    rank_sweep,
    class_similarity,
    low_loss_region,
    low_loss_ratio,
    low_loss_continual
};

// One curve of an analysis: a stream task's, or one of the named curves.
struct SeriesKey {
    enum class Kind : uint8_t { task, alone, cat, linear, foundation_forgetting, downstream_forgetting, from_start };
    Kind kind = Kind::task;
    int task = -1;  // the task, for Kind::task (≥ 0); -1 otherwise

    static SeriesKey of_task(int t) { return {Kind::task, t}; }
    static SeriesKey named(Kind k) { return {k, -1}; }
    bool is_task() const { return kind == Kind::task; }
    bool operator==(const SeriesKey&) const = default;
    auto operator<=>(const SeriesKey&) const = default;
};

std::string_view name_of(StateKey key);
std::string_view name_of(AnalysisKey key);
std::string name_of(const SeriesKey& key);  // "task3", "alone", ...

std::optional<StateKey> parse_state_key(std::string_view name);
std::optional<AnalysisKey> parse_analysis_key(std::string_view name);
// "task<digits>" (no sign, no leading '+', fits an int) or a named series; anything else → nullopt.
std::optional<SeriesKey> parse_series_key(std::string_view name);

// The name tables `name_of` and `parse_*` read: every key with its stored name, in declaration
// order (series: the named kinds; task series are "task<i>"). Tests iterate them, so a key added to
// a table is checked without being listed again.
std::span<const std::pair<StateKey, std::string_view>> state_key_names();
std::span<const std::pair<AnalysisKey, std::string_view>> analysis_key_names();
std::span<const std::pair<SeriesKey::Kind, std::string_view>> series_kind_names();

}  // namespace lorica
