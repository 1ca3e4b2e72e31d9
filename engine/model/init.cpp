#include "engine/model/init.h"

#include <torch/torch.h>

#include "engine/runtime/host_read.h"

namespace lorica {

torch::Tensor trunc_normal_(torch::Tensor tensor, double mean, double std, double lo, double hi) {
    torch::NoGradGuard no_grad;
    auto flat = torch::empty({tensor.numel()}, tensor.options());
    flat.normal_(mean, std);
    for (int round = 0; round < 100; ++round) {
        auto outside = (flat < lo) | (flat > hi);
        const int64_t n = read_int(outside.sum());
        if (n == 0) break;
        flat.masked_scatter_(outside, torch::empty({n}, tensor.options()).normal_(mean, std));
    }
    tensor.copy_(flat.clamp_(lo, hi).view_as(tensor));
    return tensor;
}

}  // namespace lorica
