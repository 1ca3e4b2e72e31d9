#include "engine/methods/lori_mask.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

#include <torch/torch.h>

#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

// Marks the top `keep` entries of the concatenated scores of `members`.
void mark_top(const std::vector<torch::Tensor>& scores, const std::vector<size_t>& members, double sparsity,
              std::vector<torch::Tensor>& masks) {
    std::vector<torch::Tensor> flat;
    for (size_t i : members) flat.push_back(scores[i].detach().reshape({-1}).to(torch::kFloat64));
    torch::Tensor all = torch::cat(flat);
    const int64_t keep = mask_keep_count(all.numel(), sparsity);
    torch::Tensor pooled = torch::zeros({all.numel()}, torch::TensorOptions().dtype(torch::kBool).device(all.device()));
    if (keep > 0)
        pooled.index_fill_(0, std::get<1>(torch::topk(all, keep, 0, /*largest*/ true, /*sorted*/ false)), true);
    int64_t start = 0;
    for (size_t i : members) {
        const int64_t n = scores[i].numel();
        masks[i] = pooled.slice(0, start, start + n).reshape(scores[i].sizes()).clone();
        start += n;
    }
}

}  // namespace

const char* to_string(MaskGranularity granularity) {
    switch (granularity) {
        case MaskGranularity::global:
            return "global";
        case MaskGranularity::per_layer:
            return "per-layer";
        case MaskGranularity::per_matrix:
            return "per-matrix";
    }
    return "?";
}

MaskGranularity mask_granularity_from_string(const std::string& name) {
    for (auto g : {MaskGranularity::global, MaskGranularity::per_layer, MaskGranularity::per_matrix})
        if (name == to_string(g)) return g;
    throw std::invalid_argument("unknown mask granularity '" + name + "' (allowed: global, per-layer, per-matrix)");
}

int64_t mask_keep_count(int64_t n, double sparsity) {
    return std::clamp<int64_t>(std::llround((1.0 - sparsity) * static_cast<double>(n)), 0, n);
}

std::vector<torch::Tensor> calibrate_masks(const std::vector<torch::Tensor>& scores, const std::vector<int>& group_of,
                                           double sparsity, MaskGranularity granularity) {
    if (!(sparsity >= 0.0 && sparsity <= 1.0))
        throw std::invalid_argument("calibrate_masks: sparsity must be in [0, 1], got " + std::to_string(sparsity));
    if (group_of.size() != scores.size())
        throw std::invalid_argument("calibrate_masks: " + std::to_string(group_of.size()) + " group ids for " +
                                    std::to_string(scores.size()) + " matrices");
    std::vector<torch::Tensor> masks(scores.size());
    if (scores.empty()) return masks;
    std::map<int, std::vector<size_t>> pools;
    for (size_t i = 0; i < scores.size(); ++i) {
        const int pool = granularity == MaskGranularity::global      ? 0
                         : granularity == MaskGranularity::per_layer ? group_of[i]
                                                                     : static_cast<int>(i);
        pools[pool].push_back(i);
    }
    for (const auto& [pool, members] : pools) mark_top(scores, members, sparsity, masks);
    return masks;
}

double mask_jaccard(const std::vector<torch::Tensor>& mask_i, const std::vector<torch::Tensor>& mask_j) {
    if (mask_i.size() != mask_j.size()) throw std::invalid_argument("mask_jaccard: mask lists differ in length");
    int64_t inter = 0, uni = 0;
    for (size_t k = 0; k < mask_i.size(); ++k) {
        inter += read_int(torch::logical_and(mask_i[k], mask_j[k]).sum());
        uni += read_int(torch::logical_or(mask_i[k], mask_j[k]).sum());
    }
    return uni == 0 ? 1.0 : static_cast<double>(inter) / static_cast<double>(uni);
}

int64_t mask_count(const std::vector<torch::Tensor>& masks) {
    int64_t n = 0;
    for (const auto& m : masks) n += read_int(m.sum());
    return n;
}

}  // namespace lorica
