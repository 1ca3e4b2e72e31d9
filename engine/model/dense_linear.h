#pragma once
// dense_linear: `y = act(x Wᵀ + b)` on the faster of LibTorch's two CPU GEMM libraries.
//
// On the CPU, at::linear multiplies with MKL's sgemm. On AMD processors (this project's test
// machine: an AMD EPYC with AVX-512) MKL does not take its AVX-512 code paths, and oneDNN's matmul,
// which LibTorch also ships (`mkldnn::_linear_pointwise`), runs the ViT's [tokens·batch, 64] ×
// [64, 192 | 64 | 256] products 2–5× faster and a 1024³ product about 2× faster
// (docs/cpu-speed.md). dense_linear therefore runs float32 CPU products through oneDNN when LibTorch
// has it, with its own backward: grad_x = g W through oneDNN, grad_W = gᵀ x and grad_b = Σ g
// through ATen. Without grad (evaluation, frozen layers) `act = gelu` is fused into the oneDNN
// product (exact erf GELU). Everything else (CUDA, other dtypes, autocast, LibTorch without oneDNN,
// backend = aten) is at::linear (+ at::gelu).
//
// The two backends agree to float rounding (≤ 1e-6 relative on the ViT's layers; tested in
// tests/unit/engine/cpu_fast_paths_test.cpp); they are not bit-identical.
//
//   x [..., in], weight [out, in], bias [out] or undefined → [..., out]

#include <torch/types.h>

namespace lorica {

enum class DenseBackend {
    automatic,  // oneDNN for float32 CPU tensors when available, else ATen
    aten,       // always at::linear (MKL / cuBLAS)
};

enum class DenseActivation { none, gelu };

// True when `dense_linear` would run this product through oneDNN.
bool dense_linear_uses_onednn(const torch::Tensor& x, const torch::Tensor& weight, DenseBackend backend);

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                           DenseActivation activation = DenseActivation::none,
                           DenseBackend backend = DenseBackend::automatic);

}  // namespace lorica
