#include "engine/train/loss_readback.h"

#include <stdexcept>

#include <torch/torch.h>

#include "engine/runtime/host_read.h"

namespace lorica {

LossReadback::LossReadback(int64_t every) : every_(every) {
    if (every_ < 1) throw std::invalid_argument("LossReadback: block size must be ≥ 1");
    pending_.reserve(static_cast<size_t>(std::min<int64_t>(every_, 4096)));
}

bool LossReadback::push(const torch::Tensor& loss, const std::vector<torch::Tensor>& values) {
    pending_.push_back(loss.detach().reshape({}));
    std::vector<torch::Tensor> flat;
    flat.reserve(values.size());
    for (const auto& v : values) flat.push_back(v.detach().reshape({-1}));
    pending_values_.push_back(std::move(flat));
    return pending() >= every_;
}

std::vector<double> LossReadback::read() {
    std::vector<double> out;
    for (const StepReadout& step : read_steps()) out.push_back(step.loss);
    return out;
}

std::vector<StepReadout> LossReadback::read_steps() {
    std::vector<StepReadout> out;
    if (pending_.empty()) return out;
    const size_t n = pending_.size();
    torch::Tensor losses = n == 1 ? pending_.front().reshape({1}) : torch::stack(pending_);
    // Losses first, then every step's values in push order, as one float64 vector on the device.
    std::vector<torch::Tensor> parts;
    for (const auto& step : pending_values_)
        for (const auto& v : step) parts.push_back(v.to(torch::kFloat64));
    std::vector<double> host;
    if (parts.empty()) {
        host = read_values(losses);
    } else {
        parts.insert(parts.begin(), losses.to(torch::kFloat64));
        host = read_values(torch::cat(parts));
    }
    out.resize(n);
    size_t at = n;
    for (size_t i = 0; i < n; ++i) {
        out[i].loss = host[i];
        for (const auto& v : pending_values_[i]) {
            const auto count = static_cast<size_t>(v.numel());
            out[i].values.emplace_back(host.begin() + static_cast<std::ptrdiff_t>(at),
                                       host.begin() + static_cast<std::ptrdiff_t>(at + count));
            at += count;
        }
    }
    pending_.clear();
    pending_values_.clear();
    return out;
}

int64_t loss_readback_steps(const TrainConfig& train, torch::Device device) {
    if (train.loss_readback_steps > 0) return train.loss_readback_steps;
    return device.is_cpu() ? 1 : kAutoCudaLossReadbackSteps;
}

}  // namespace lorica
