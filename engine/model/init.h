#pragma once
// Weight initialisers that LibTorch's C++ API lacks.

#include <torch/types.h>

namespace lorica {

// In place: N(mean, std²) truncated to [lo, hi] (redraws the samples that fall outside), as timm's
// trunc_normal_. Returns `tensor`.
torch::Tensor trunc_normal_(torch::Tensor tensor, double mean, double std, double lo, double hi);

}  // namespace lorica
