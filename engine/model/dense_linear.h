#pragma once
// dense_linear: `y = act(x Wᵀ + b)` with each of its products (forward, grad_input = g W,
// grad_weight = gᵀ x) on the faster of LibTorch's two float32 CPU GEMM libraries for that shape on
// this machine: ATen's (at::linear / at::mm: MKL's sgemm) or oneDNN's (`mkldnn::_linear_pointwise`).
//
// Which is faster depends on the CPU, the shape and the thread count (docs/cpu-speed.md: on one AMD
// EPYC MKL ran its non-AVX-512 code and oneDNN was 2–5× faster on the tiny ViT's shapes; on the next
// one they were within a few percent and MKL won a 1024³ product), so DenseBackend::automatic looks
// every product up in the machine's measured table (kernel_choice.h: timed once per machine on the
// model's own shapes, cached with the CPU's identity).
//
// Autograd. When every product the step needs is ATen's, dense_linear is at::linear (+ at::gelu),
// ATen's own autograd. Otherwise a custom function runs the forward and the backward's grad_input and
// grad_weight each on its chosen library; grad_b = Σ g (ATen). Without grad (evaluation, frozen
// layers) `act = gelu` is fused into oneDNN's product when oneDNN runs the forward (exact erf GELU).
// Everything else (CUDA, other dtypes, autocast, LibTorch without oneDNN) is at::linear (+ at::gelu).
//
// The two libraries agree to float rounding (≤ 1e-6 relative on the ViT's layers; tested in
// tests/unit/engine/cpu_fast_paths_test.cpp); they are not bit-identical.
//
//   x [..., in], weight [out, in], bias [out] or undefined → [..., out]

#include <torch/types.h>

#include "engine/model/kernel_choice.h"

namespace lorica {

enum class DenseBackend {
    automatic,  // per product: the machine's measured table (kernel_choice.h); ATen where oneDNN cannot run
    aten,       // always at::linear (MKL / cuBLAS)
    onednn,     // oneDNN for forward and grad_input, ATen for grad_weight (the rule before tables) where
                // oneDNN can run; ATen elsewhere
};

enum class DenseActivation { none, gelu };

// Whether this LibTorch has oneDNN's linear (`mkldnn::_linear_pointwise` for CPU tensors).
bool onednn_linear_available();
// Whether oneDNN can run this product at all: float32 CPU tensors, no autocast, LibTorch with oneDNN.
bool dense_linear_onednn_eligible(const torch::Tensor& x, const torch::Tensor& weight);

// The library that runs `role` of the product x [..., in] · weight [out, in]ᵀ with `backend`
// (automatic: measures the shape first if the machine's table lacks it).
GemmKernel dense_linear_kernel(const torch::Tensor& x, const torch::Tensor& weight, DenseBackend backend,
                               ProductRole role);

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                           DenseActivation activation = DenseActivation::none,
                           DenseBackend backend = DenseBackend::automatic);

// One product exactly as dense_linear runs it (kernel_choice times these), 2-D contiguous operands:
//   forward       lhs x [rows, in],  rhs W [out, in]   → x Wᵀ + b          [rows, out]
//   forward_gelu  as forward                           → gelu(x Wᵀ + b)
//   grad_input    lhs g [rows, out], rhs W [out, in]   → g W               [rows, in]   (bias unused)
//   grad_weight   lhs g [rows, out], rhs x [rows, in]  → gᵀ x              [out, in]    (bias unused)
// GemmKernel::onednn requires dense_linear_onednn_eligible.
torch::Tensor dense_product(ProductRole role, GemmKernel kernel, const torch::Tensor& lhs, const torch::Tensor& rhs,
                            const torch::Tensor& bias = {});

}  // namespace lorica
