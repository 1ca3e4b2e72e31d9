#include "engine/train/grad_scaler.h"

#include <map>
#include <stdexcept>
#include <string>

#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>
#include <torch/torch.h>

#include "engine/runtime/host_read.h"

namespace lorica {

GradScaler::GradScaler(bool enabled, GradScalerOptions options)
    : enabled_(enabled), options_(options), scale_(options.init_scale) {
    if (!(options_.init_scale > 0) || !(options_.growth_factor > 1) || !(options_.backoff_factor > 0) ||
        !(options_.backoff_factor < 1) || options_.growth_interval < 1)
        throw std::invalid_argument(
            "GradScaler: need init_scale > 0, growth_factor > 1, 0 < backoff_factor < 1, "
            "growth_interval ≥ 1");
}

torch::Tensor GradScaler::scale(const torch::Tensor& loss) const {
    if (!enabled_) return loss;
    return loss * scale_;
}

bool GradScaler::unscale(const std::vector<torch::Tensor>& params) {
    if (!enabled_) return true;
    // Gradients grouped by device (and dtype: the fused kernel wants one of each per call).
    std::map<std::pair<std::string, int>, std::vector<torch::Tensor>> groups;
    for (const auto& p : params) {
        const torch::Tensor& g = p.grad();
        if (!g.defined()) continue;
        if (g.is_sparse()) throw std::invalid_argument("GradScaler: sparse gradients are not supported");
        groups[{g.device().str(), static_cast<int>(g.scalar_type())}].push_back(g);
    }
    bool finite = true;
    for (auto& [key, grads] : groups) {
        auto opts = torch::TensorOptions().dtype(torch::kFloat).device(grads.front().device());
        torch::Tensor found_inf = torch::zeros({1}, opts);
        torch::Tensor inv_scale = torch::full({1}, 1.0 / scale_, opts);
        at::_amp_foreach_non_finite_check_and_unscale_(grads, found_inf, inv_scale);
        if (read_scalar(found_inf) != 0.0) finite = false;  // the one host read of an fp16 step
    }
    last_finite_ = finite;
    return finite;
}

void GradScaler::update() {
    if (!enabled_) return;
    if (!last_finite_) {
        scale_ *= options_.backoff_factor;
        finite_in_a_row_ = 0;
        ++skipped_;
    } else if (++finite_in_a_row_ >= options_.growth_interval) {
        scale_ *= options_.growth_factor;
        finite_in_a_row_ = 0;
    }
    last_finite_ = true;
}

}  // namespace lorica
