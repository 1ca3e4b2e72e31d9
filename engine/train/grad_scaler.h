#pragma once
// Dynamic loss scaling for fp16 training (LibTorch's C++ API has no GradScaler; this is the same
// algorithm as torch.amp.GradScaler).
//
// fp16 has a 5-bit exponent: gradients below ~6e-8 flush to zero. The loss is multiplied by a scale S
// before backward, so the fp16 activation gradients are S× larger; the fp32 parameter gradients are
// then divided by S before clipping and the optimizer step. When any of them is inf or NaN (S was
// too large for some fp16 intermediate), the step is skipped and S is multiplied by backoff_factor;
// after growth_interval finite steps in a row S is multiplied by growth_factor.
//
//   GradScaler scaler(precision == Precision::fp16);
//   scaler.scale(loss).backward();
//   if (scaler.unscale(params)) { clip(params); optimizer.step(); }   // false: inf/NaN, skip
//   scaler.update();
//
// A disabled scaler (bf16, fp32) is the identity: scale() returns the loss itself, unscale() reads
// nothing from the device and returns true. Enabled, unscale() costs one device→host read of one
// flag per step (the decision to skip an optimizer step is taken on the host; torch.amp does the same:
// GradScaler.step reads found_inf with .item() unless the optimizer is a fused one that takes the
// flag on the device, which LibTorch's C++ optimizers are not). It is the one host read allowed
// inside a training step (engine/runtime/host_read.h) and is counted as such; bf16, the GPU default,
// needs no scaler and has none.

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace lorica {

struct GradScalerOptions {
    double init_scale = 65536.0;  // 2^16, torch.amp's default
    double growth_factor = 2.0;
    double backoff_factor = 0.5;
    int64_t growth_interval = 2000;  // finite steps in a row before the scale grows
};

class GradScaler {
public:
    explicit GradScaler(bool enabled, GradScalerOptions options = {});

    bool enabled() const { return enabled_; }

    // loss × S (S as a tensor on the loss's device and dtype); the loss itself when disabled.
    torch::Tensor scale(const torch::Tensor& loss) const;

    // Divides the defined gradients of `params` by S in place (one fused kernel per device) and
    // returns whether all of them are finite. Call once per step, after backward.
    bool unscale(const std::vector<torch::Tensor>& params);

    // Records the last unscale()'s outcome: backs the scale off (non-finite) or counts towards growth.
    void update();

    double scale_value() const { return scale_; }
    int64_t skipped_steps() const { return skipped_; }  // steps whose gradients were not finite

private:
    bool enabled_;
    GradScalerOptions options_;
    double scale_;
    int64_t finite_in_a_row_ = 0;
    int64_t skipped_ = 0;
    bool last_finite_ = true;
};

}  // namespace lorica
