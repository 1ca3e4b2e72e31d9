#pragma once
// Merging several task adapters of one layer into one update (LoRI's merge step, as PEFT's
// `add_weighted_adapter` names them).
//
// Adapter t of a layer: A_t [r_t, in], B_t [rows, r_t], scale s_t, merge weight w_t.
//
//   cat     ΔW = Σ_t w_t s_t B_t A_t                                   exact, rank Σ_t r_t
//   linear  ΔW = (Σ_t √(w_t s_t) B_t) (Σ_t √(w_t s_t) A_t)             rank r (all r_t equal),
//           which adds the cross terms √(w_i s_i w_j s_j) B_i A_j (i ≠ j) to the cat merge.
//
// Both are returned as one factor pair with scale 1, so the merge installs as one LowRankTerm;
// `merged_delta` gives the dense ΔW. Compare merges on ΔW, never on A and B separately (a
// factorisation is not unique). Weights must be ≥ 0 and scales > 0 (√ of their product).

#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/methods/catalog/lori_options.h"  // MergeKind

namespace lorica {

const char* to_string(MergeKind kind);
// "cat" | "linear"; throws std::invalid_argument listing the allowed names.
MergeKind merge_kind_from_string(const std::string& name);

// One adapter of one layer.
struct AdapterFactors {
    torch::Tensor A;     // [r, in]
    torch::Tensor B;     // [rows, r]
    double scale = 1.0;  // s = alpha / r
};

// The merge as one factor pair with scale 1 (detached): cat → A [Σ r_t, in], B [rows, Σ r_t];
// linear → A [r, in], B [rows, r]. Throws std::invalid_argument when the list is empty, the weights
// do not match the adapters, shapes disagree, or (linear) the ranks differ.
AdapterFactors merge_adapters(const std::vector<AdapterFactors>& adapters, const std::vector<double>& weights,
                              MergeKind kind);

// ΔW [rows, in] of the merge (detached).
torch::Tensor merged_delta(const std::vector<AdapterFactors>& adapters, const std::vector<double>& weights,
                           MergeKind kind);

// Weights for `count` adapters: every adapter gets `weight`, or 1 / count when `weight` is 0.
std::vector<double> merge_weights(int count, double weight);

}  // namespace lorica
