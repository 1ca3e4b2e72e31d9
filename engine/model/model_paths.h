#pragma once
// Which of two numerically equivalent computations the ViT's layers run (docs/cpu-speed.md).
//
// The automatic choice is the faster one for the shapes at hand; the fixed choices exist so that
// tests (tests/unit/engine/cpu_fast_paths_test.cpp) and benchmarks can compare the paths, which
// agree to float rounding (≤ 1e-5 relative on losses and gradients) but not bit for bit.
//
//   dense      DenseBackend (dense_linear.h): per product (forward, grad_input, grad_weight) the library
//              measured fastest on this machine (automatic, kernel_choice.h), or always ATen (MKL) or oneDNN.
//   terms      TermPath: LoRALinear's terms with a trainable factor
//                folded    W + Σ s_k m_k B_k A_k computed every forward (autograd through it), one
//                          product with x;
//                factored  side branches ((x Aᵀ) Bᵀ) · s_k m_k added to the term's output rows.
//              automatic folds without grad (evaluation), when W's gradient is computed anyway (full
//              fine-tuning; SD-LoRA's learnable old magnitudes make W + Σ α_k D_k depend on α), and
//              otherwise when out·in ≤ kFoldWork · Σ_k r_k (in + rows_k). The fold adds one [out, in]
//              weight gradient (2·N·out·in flops for N input rows) and saves the side branches'
//              ≈ 6·N·r·(in + rows) flops of rank-r products, which run far below GEMM speed, and
//              their [N, out] padding and sums: on the tiny ViT's qkv with rank 8 on q and v (fold
//              2·N·12288 flops against 6·N·2048) the fold takes about 0.6× the time. ViT-B/16's qkv
//              with rank 10 on q, v (2·N·1.77M against 6·N·30720) keeps the side branches.
//   attention  AttentionKernel: explicit softmax(q kᵀ / √d) v (two batched products) or
//              at::scaled_dot_product_attention; automatic takes the explicit kernel for
//              tokens · head_dim ≤ kExplicitAttentionMaxWork.
//
// The setting is process-wide (the product leaves it automatic); set it before building the
// autograd graph of a step, never while another thread runs a forward.

#include <cstdint>

#include "engine/model/dense_linear.h"

namespace lorica {

class LoRALinearImpl;

enum class TermPath { automatic, folded, factored };
enum class AttentionKernel { automatic, fused, explicit_ };

struct ModelPaths {
    DenseBackend dense = DenseBackend::automatic;
    TermPath terms = TermPath::automatic;
    AttentionKernel attention = AttentionKernel::automatic;
};

// The process-wide choice (automatic everywhere unless a test or benchmark changes it).
ModelPaths& model_paths();

inline constexpr int64_t kFoldWork = 9;
inline constexpr int64_t kExplicitAttentionMaxWork = 1024;

// Whether this layer's next forward folds its trainable terms into the weight (rule above).
bool folds_trainable_terms(const LoRALinearImpl& layer);
// Whether attention over `tokens` tokens with heads of `head_dim` takes the explicit kernel.
bool attention_uses_explicit_kernel(int64_t tokens, int64_t head_dim);

}  // namespace lorica
