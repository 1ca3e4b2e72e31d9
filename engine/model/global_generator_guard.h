#pragma once
// GlobalGeneratorGuard: keeps LibTorch's global CPU generator as it was. Building a model draws its
// initial weights from that generator (vit.cpp, lora_linear.cpp); a look-up that builds a model on
// the side (the set-up panel's weights check and training estimate) holds a guard, so the next draw
// of whoever seeded the generator is unchanged. It does not make concurrent use safe: the state is
// saved at construction and restored at destruction, nothing in between is serialised.

#include <mutex>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/types.h>

namespace lorica {

class GlobalGeneratorGuard {
public:
    GlobalGeneratorGuard() : generator_(at::detail::getDefaultCPUGenerator()) {
        std::lock_guard<std::mutex> lock(generator_.mutex());
        state_ = generator_.get_state();
    }
    ~GlobalGeneratorGuard() {
        std::lock_guard<std::mutex> lock(generator_.mutex());
        generator_.set_state(state_);
    }
    GlobalGeneratorGuard(const GlobalGeneratorGuard&) = delete;
    GlobalGeneratorGuard& operator=(const GlobalGeneratorGuard&) = delete;

private:
    at::Generator generator_;
    torch::Tensor state_;
};

}  // namespace lorica
