#pragma once
// Linear algebra of factored low-rank directions, without ever forming a dense ΔW.
//
// A factored matrix is `c · B A` with B [rows, r], A [r, in] and a constant c. A direction spans
// several adapted matrices (one factored matrix per adapted site, the same site order in every
// direction); its Frobenius inner product is the sum over sites.
//
//   <c_i B_i A_i, c_j B_j A_j>_F = c_i c_j trace((B_iᵀ B_j)(A_j A_iᵀ)) = c_i c_j Σ (B_iᵀ B_j) ⊙ (A_i A_jᵀ)
//
// costs O((rows + in) r²) instead of O(rows · in · r). SD-LoRA-KD fits a new direction onto the old
// ones with the small Gram matrix G [K, K] (least squares: β = G⁺ c, c_k = <D_k, target>), and
// computes the residual ‖target − Σ β_k D_k‖_F explicitly from the concatenated factors (QR of
// both factor stacks, then the norm of the small R_B R_Aᵀ): no cancellation, unlike the expansion
// ‖t‖² − 2βᵀc + βᵀGβ, so residuals near τ = 9e-4 are accurate.
//
// Every result is computed in float64 on the factors' device; inputs are never modified and no
// gradient flows (the functions work on detached copies).
//
// Two forms of each quantity: `*_on_device` returns 0-dim float64 tensors on the factors' device and
// reads nothing back (for values recorded inside a training step: SD-LoRA's step_state); the plain
// form reads that result back (engine/runtime/host_read.h), so both give the same bits. On a GPU the
// device form has one read left inside LibTorch: torch::linalg_eigh of the [K, K] Gram matrix checks
// its solver's error flag on the host (the fit needs the pseudo-inverse; K = number of old directions).

#include <utility>
#include <vector>

#include <torch/types.h>

namespace lorica {

// c · B A.
struct FactoredMatrix {
    FactoredMatrix() = default;
    FactoredMatrix(torch::Tensor b, torch::Tensor a, double c = 1.0) : B(std::move(b)), A(std::move(a)), coef(c) {}

    torch::Tensor B;    // [rows, r]
    torch::Tensor A;    // [r, in]
    double coef = 1.0;  // c
    // c as a 0-dim float64 tensor on the factors' device, when c is itself computed on the device
    // (SD-LoRA's 1/‖B A‖ of the current direction); when defined it is used instead of `coef`.
    torch::Tensor coef_on_device;
};

// One factored matrix per adapted site; all directions of one fit list the same sites in the same order.
using FactoredDirection = std::vector<FactoredMatrix>;

// <x, y>_F of two factored matrices of the same shape [rows, in] (float64 scalar).
double frobenius_inner(const FactoredMatrix& x, const FactoredMatrix& y);

// ‖x‖_F computed from the factors (QR of B and Aᵀ): exact up to rounding, even for tiny norms.
double frobenius_norm(const FactoredMatrix& x);

// ‖Σ_i x_i‖_F of several factored matrices of the same shape, from their concatenated factors.
double frobenius_norm_of_sum(const std::vector<FactoredMatrix>& terms);

// ‖d‖_F of a whole direction (square root of the sum of its sites' squared norms).
double direction_norm(const FactoredDirection& d);

// G[i][j] = <d_i, d_j>_F summed over sites, [K, K] float64 on the factors' device (K = dirs.size();
// empty → [0, 0] on the CPU).
torch::Tensor gram_matrix(const std::vector<FactoredDirection>& dirs);

// Least-squares fit of `target` onto `basis`: β = argmin ‖target − Σ_k β_k basis_k‖_F.
struct DirectionFit {
    torch::Tensor beta;     // [K] float64; the minimum-norm solution when the basis is degenerate
    double residual = 0.0;  // ‖target − Σ_k β_k basis_k‖_F, computed explicitly from the factors
    double target_norm = 0.0;
    // residual / ‖target‖: the residual of the unit-normalised target (0 for a zero target).
    double relative_residual() const { return target_norm > 0.0 ? residual / target_norm : 0.0; }
};

// An empty basis gives β = [] and residual = ‖target‖. Eigenvalues of G below
// `rcond` · max eigenvalue are treated as zero (pseudo-inverse).
DirectionFit fit_direction(const std::vector<FactoredDirection>& basis, const FactoredDirection& target,
                           double rcond = 1e-10);

// ‖target − Σ_k β_k basis_k‖_F from the concatenated factors (β [K], any floating dtype).
double residual_norm(const std::vector<FactoredDirection>& basis, const torch::Tensor& beta,
                     const FactoredDirection& target);

// ---- the same on the device (0-dim float64 tensors on the factors' device, no host read) ---------

torch::Tensor frobenius_inner_on_device(const FactoredMatrix& x, const FactoredMatrix& y);
torch::Tensor frobenius_norm_of_sum_on_device(const std::vector<FactoredMatrix>& terms);
torch::Tensor frobenius_norm_on_device(const FactoredMatrix& x);
torch::Tensor direction_norm_on_device(const FactoredDirection& d);
torch::Tensor residual_norm_on_device(const std::vector<FactoredDirection>& basis, const torch::Tensor& beta,
                                      const FactoredDirection& target);

// DirectionFit with every field a tensor on the device.
struct DirectionFitOnDevice {
    torch::Tensor beta;                       // [K] float64
    torch::Tensor residual;                   // 0-dim float64
    torch::Tensor target_norm;                // 0-dim float64
    torch::Tensor relative_residual() const;  // residual / ‖target‖ (0 for a zero target), 0-dim float64
};

DirectionFitOnDevice fit_direction_on_device(const std::vector<FactoredDirection>& basis,
                                             const FactoredDirection& target, double rcond = 1e-10);

}  // namespace lorica
