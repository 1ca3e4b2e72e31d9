#include "engine/runtime/device_transfer.h"

#include <torch/torch.h>

namespace lorica {

torch::Tensor to_device(const torch::Tensor& t, torch::Device device) {
    if (t.device() == device) return t;
    if (device.is_cuda() && t.device().is_cpu()) {
        const torch::Tensor pinned = t.is_pinned() ? t : t.pin_memory();
        return pinned.to(device, /*non_blocking=*/true);
    }
    return t.to(device);
}

}  // namespace lorica
