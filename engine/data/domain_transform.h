#pragma once
// Domain transforms: the visual domain of a task in a domain-shifted stream.
//
//   identity, rot90, rot180, rot270 (counter-clockwise, in the image plane), invert (x → 1 − x, on
//   pixels in [0, 1]), hflip, vflip, patch_permute (the image cut into a 4×4 grid of patches, patch p
//   of the result = patch permutation[p] of the input).

#include <string>
#include <vector>

#include <torch/types.h>

namespace lorica {

// images: float [N, C, H, W] with pixels in [0, 1] (before normalisation) → same shape.
// Throws std::invalid_argument for an unknown name, or patch_permute on a size not divisible by 4.
torch::Tensor apply_domain_transform(const torch::Tensor& images, const std::string& domain,
                                     const std::vector<int>& patch_permutation);

}  // namespace lorica
