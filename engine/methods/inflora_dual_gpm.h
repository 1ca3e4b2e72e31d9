#pragma once
// InfLoRA's DualGPM: the old tasks' subspace of one layer's input features, and the down-projection
// A_t that avoids it. Follows liangyanshuo/InfLoRA methods/inflora.py: `_train` lines 122-158 (A_t) and
// `update_DualGPM` lines 321-412 (the subspace after each task).
//
// Input-feature matrix of a layer (models/vit_inflora.py, Attention_LoRA.forward lines 236-238):
//     F = (1/n) Σ_tokens x xᵀ   [dim, dim]   over the n = batches · batch · tokens input tokens x [dim]
// of the layer (the block's norm1 output, all tokens including the class token).
//
// The subspace M of old tasks' inputs is kept as whichever of its bases is smaller (DualGPM):
//   remove  `basis` [dim, k] spans M              (k ≤ dim/2 after every update)
//   retain  `basis` [dim, k] spans M's complement  (k ≤ dim/2)
// With P = basis basisᵀ, F with M taken out is  remove: F − P F   retain: P F.
//
// Down-projection of task t at rank r (inflora_down_projection):
//     A_t = U[:, :r]ᵀ / √3      U: left singular vectors of F (task 0) or of F with M taken out (t > 0)
// so every row of A_t lies in M's complement: A_t u = 0 for u ∈ M, and a branch B A_t leaves the
// layer's output on old tasks' inputs in M unchanged. (Where F with M taken out has rank below r, the
// trailing rows are singular vectors of a zero singular value, as in the official code.)
//
// Update after task t with threshold τ = lamb + (lame − lamb) · t / T (F from the trained model):
//   first task   U, S = svd(F); k = #{i : Σ_{j≤i} S_j² / Σ S² < τ}; basis = U[:, :max(k, 1)], remove
//   remove       F̂ = F − P F; Ŝ = svd(F̂); e = (‖S‖² − ‖Ŝ‖²)/‖S‖²; add Û's columns while e < τ
//                (e += Ŝ_i²/‖S‖² each); basis = [basis, Û[:, :r]] (at most dim columns)
//   retain       F̂ = P F; e = ‖Ŝ‖²/‖S‖²; take r columns while e ≥ 1 − τ (e −= Ŝ_i²/‖S‖²);
//                basis = left singular vectors of (basis − Û_r Û_rᵀ basis), first k − r
//   then         a remove basis with k > dim/2 becomes its complement (retain).
// (The official code stores a first task's basis with k ≥ dim/2 under 'retain' without taking the
// complement, which its own check then refuses; here the first task goes through the same conversion
// as later ones.) Arithmetic in float64 on the CPU; the basis is kept at float32 values after each
// update (the official code's numpy arrays are float32), which a resume file holds exactly.

#include <cstdint>

#include <torch/types.h>

namespace lorica {

enum class InfLoRAProjection { remove, retain };

struct InfLoRASubspace {
    torch::Tensor
        basis;  // float64 [dim, k] orthonormal columns at float32 values, CPU; undefined before the first update
    InfLoRAProjection type = InfLoRAProjection::remove;

    bool empty() const { return !basis.defined(); }
    // An orthonormal basis of M itself, float64 [dim, m] (m = 0 when empty).
    torch::Tensor old_space(int64_t dim) const;
    // F with M taken out (F unchanged when empty), float64 [dim, dim].
    torch::Tensor project_out(const torch::Tensor& features) const;
    // Grows M with a finished task's input-feature matrix F [dim, dim] at threshold τ.
    void update(const torch::Tensor& features, double threshold);
    // Scalars kept (the basis): stored features.
    int64_t stored_scalars() const { return empty() ? 0 : basis.numel(); }
};

// A_t: float64 [rank, dim] = the top-`rank` left singular vectors of subspace.project_out(features),
// transposed, divided by √3.
torch::Tensor inflora_down_projection(const InfLoRASubspace& subspace, const torch::Tensor& features, int64_t rank);

}  // namespace lorica
