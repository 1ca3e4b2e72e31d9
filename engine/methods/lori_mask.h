#pragma once
// LoRI-S mask calibration: which entries of the B matrices stay trainable.
//
// Given one score tensor per adapted matrix (|B| of a dense LoRI-D run, [rows, r] each), keep the
// top (1 − sparsity) of the entries by score and mask the rest:
//
//   global      one magnitude threshold over all adapted matrices together (LoRI's default)
//   per-layer   the top (1 − sparsity) of each layer's matrices (matrices with the same group id,
//               e.g. the q and v slices of one fused qkv)
//   per-matrix  the top (1 − sparsity) of each matrix
//
// Each pool keeps exactly round((1 − sparsity) · n) entries of its n (ties broken by position via
// topk), so the trainable count of LoRI-S is known in advance: 10% of |B| at sparsity 0.9.

#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/methods/catalog/lori_options.h"  // MaskGranularity, MergeKind

namespace lorica {

const char* to_string(MaskGranularity granularity);
// "global" | "per-layer" | "per-matrix"; throws std::invalid_argument listing the allowed names.
MaskGranularity mask_granularity_from_string(const std::string& name);

// Entries a pool of n keeps: round((1 − sparsity) · n).
int64_t mask_keep_count(int64_t n, double sparsity);

// scores[i]: any shape, ≥ 0 (e.g. |B_i|); group_of[i]: the layer of matrix i (per-layer pools).
// Returns one bool mask per matrix, shaped like its score, on the score's device. sparsity ∈ [0, 1].
std::vector<torch::Tensor> calibrate_masks(const std::vector<torch::Tensor>& scores, const std::vector<int>& group_of,
                                           double sparsity, MaskGranularity granularity);

// |M_i ∩ M_j| / |M_i ∪ M_j| pooled over all matrices (1 when both masks are empty).
double mask_jaccard(const std::vector<torch::Tensor>& mask_i, const std::vector<torch::Tensor>& mask_j);

// Number of true entries over all masks.
int64_t mask_count(const std::vector<torch::Tensor>& masks);

}  // namespace lorica
