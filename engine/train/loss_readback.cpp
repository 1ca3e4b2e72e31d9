#include "engine/train/loss_readback.h"

#include <stdexcept>

#include <torch/torch.h>

namespace lorica {

LossReadback::LossReadback(int64_t every) : every_(every) {
    if (every_ < 1) throw std::invalid_argument("LossReadback: block size must be ≥ 1");
    pending_.reserve(static_cast<size_t>(std::min<int64_t>(every_, 4096)));
}

bool LossReadback::push(const torch::Tensor& loss) {
    pending_.push_back(loss.detach().reshape({}));
    return pending() >= every_;
}

std::vector<double> LossReadback::read() {
    std::vector<double> out;
    if (pending_.empty()) return out;
    torch::Tensor host = (pending_.size() == 1 ? pending_.front().reshape({1}) : torch::stack(pending_))
                             .to(torch::kCPU)
                             .to(torch::kDouble)
                             .contiguous();
    pending_.clear();
    const double* p = host.data_ptr<double>();
    out.assign(p, p + host.numel());
    return out;
}

int64_t loss_readback_steps(const TrainConfig& train, torch::Device device) {
    if (train.loss_readback_steps > 0) return train.loss_readback_steps;
    return device.is_cpu() ? 1 : kAutoCudaLossReadbackSteps;
}

}  // namespace lorica
