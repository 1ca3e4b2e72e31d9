#pragma once
// The arithmetic of the forward pass (train.precision, experiment_config.h) put into effect.
//
//   fp32  no autocast. On a CUDA device fp32 matmuls and convolutions may use TF32
//         (enable_fast_fp32_math); on the CPU nothing changes, bit for bit.
//   bf16  autocast to bfloat16 on the run's device type (CPU autocast too, so it runs everywhere).
//   fp16  autocast to float16; the loss is scaled by a GradScaler (grad_scaler.h).
// The parameters are never converted: autocast casts each eligible operation's inputs (matmuls,
// linear layers) to the low precision and keeps precision-sensitive ones (softmax, layer norm,
// cross-entropy) in fp32, so the weights the optimizer updates — the fp32 master weights — and
// their gradients stay fp32.
//
// Usage (the forward only; backward runs outside the scope, as autocast expects):
//   {
//       AutocastScope autocast(Precision::bf16, device);
//       loss = cross_entropy(heads(model(x)), y);
//   }
//   loss.backward();

#include <torch/types.h>

#include "engine/config/experiment_config.h"

namespace lorica {

// The low-precision dtype of a mode: kBFloat16, kHalf; kFloat for fp32.
torch::ScalarType autocast_dtype(Precision precision);

// RAII: autocast on `device`'s type at `precision` for the scope's lifetime, the previous state
// (enabled flag, dtype) restored on exit, and the cast cache cleared when the outermost scope ends.
// Precision::fp32 does nothing at all.
class AutocastScope {
public:
    AutocastScope(Precision precision, torch::Device device);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool active_ = false;
    c10::DeviceType type_ = c10::DeviceType::CPU;
    bool was_enabled_ = false;
    torch::ScalarType previous_dtype_ = torch::kFloat;
};

// On a CUDA device: lets cuBLAS and cuDNN use TF32 for fp32 matmuls and convolutions (about 8× the
// fp32 rate on Ampere and later, 10-bit mantissa products, fp32 accumulation). No effect on the
// CPU. Process-wide (LibTorch's global context).
void enable_fast_fp32_math(torch::Device device);

}  // namespace lorica
