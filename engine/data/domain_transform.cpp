#include "engine/data/domain_transform.h"

#include <stdexcept>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"

namespace lorica {

torch::Tensor apply_domain_transform(const torch::Tensor& images, const std::string& domain,
                                     const std::vector<int>& patch_permutation) {
    const std::optional<DomainTransform> transform = value_of(kDomainTransformNames, domain);
    if (!transform) throw std::invalid_argument("unknown domain transform '" + domain + "'");
    switch (*transform) {
        case DomainTransform::identity:
            return images;
        case DomainTransform::rot90:
            return torch::rot90(images, 1, {2, 3}).contiguous();
        case DomainTransform::rot180:
            return torch::rot90(images, 2, {2, 3}).contiguous();
        case DomainTransform::rot270:
            return torch::rot90(images, 3, {2, 3}).contiguous();
        case DomainTransform::invert:
            return 1.0 - images;
        case DomainTransform::hflip:
            return images.flip({3}).contiguous();
        case DomainTransform::vflip:
            return images.flip({2}).contiguous();
        case DomainTransform::patch_permute:
            break;
    }
    // patch_permute
    const int64_t n = images.size(0), c = images.size(1), h = images.size(2), w = images.size(3);
    if (h % 4 != 0 || w % 4 != 0 || patch_permutation.size() != 16)
        throw std::invalid_argument("patch_permute needs images divisible into a 4×4 grid and 16 permutation entries");
    const int64_t ph = h / 4, pw = w / 4;
    // [N, C, 4, ph, 4, pw] → [N, 16, C, ph, pw]
    auto patches = images.reshape({n, c, 4, ph, 4, pw}).permute({0, 2, 4, 1, 3, 5}).reshape({n, 16, c, ph, pw});
    std::vector<int64_t> index(patch_permutation.begin(), patch_permutation.end());
    auto shuffled = patches.index_select(1, torch::tensor(index, torch::kInt64));
    return shuffled.reshape({n, 4, 4, c, ph, pw}).permute({0, 3, 1, 4, 2, 5}).reshape({n, c, h, w}).contiguous();
}

}  // namespace lorica
