#include "engine/methods/direction_algebra.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

torch::Tensor f64(const torch::Tensor& t) { return t.detach().to(torch::kFloat64); }

void check_sites(const FactoredDirection& a, const FactoredDirection& b) {
    if (a.size() != b.size())
        throw std::invalid_argument("direction algebra: directions over " + std::to_string(a.size()) + " and " +
                                    std::to_string(b.size()) + " sites cannot be compared");
}

torch::TensorOptions direction_algebra_options(const torch::Tensor& like) {
    return torch::TensorOptions().dtype(torch::kFloat64).device(like.device());
}

// c as a 0-dim float64 tensor on the factors' device.
torch::Tensor direction_algebra_coef(const FactoredMatrix& m) {
    if (m.coef_on_device.defined()) return f64(m.coef_on_device);
    return torch::scalar_tensor(m.coef, direction_algebra_options(m.B));
}

// f64(B) · c: a host c multiplies as a scalar, a device c as a 0-dim tensor (the same double product).
torch::Tensor direction_algebra_scaled_b(const FactoredMatrix& m) {
    return m.coef_on_device.defined() ? f64(m.B) * f64(m.coef_on_device) : f64(m.B) * m.coef;
}

torch::Tensor direction_algebra_zero(const FactoredDirection& d) {
    return d.empty() ? torch::zeros({}, torch::kFloat64) : torch::zeros({}, direction_algebra_options(d.front().B));
}

}  // namespace

torch::Tensor frobenius_inner_on_device(const FactoredMatrix& x, const FactoredMatrix& y) {
    torch::NoGradGuard no_grad;
    torch::Tensor bb = f64(x.B).t().mm(f64(y.B));  // [r_x, r_y]
    torch::Tensor aa = f64(x.A).mm(f64(y.A).t());  // [r_x, r_y]
    const torch::Tensor sum = (bb * aa).sum();
    if (!x.coef_on_device.defined() && !y.coef_on_device.defined()) return sum * (x.coef * y.coef);
    return direction_algebra_coef(x) * direction_algebra_coef(y) * sum;
}

torch::Tensor frobenius_norm_of_sum_on_device(const std::vector<FactoredMatrix>& terms) {
    torch::NoGradGuard no_grad;
    if (terms.empty()) return torch::zeros({}, torch::kFloat64);
    std::vector<torch::Tensor> bs, as;
    for (const auto& t : terms) {
        bs.push_back(direction_algebra_scaled_b(t));
        as.push_back(f64(t.A));
    }
    // Σ c_i B_i A_i = B_cat A_cat = Q_B R_B R_Aᵀ Q_Aᵀ, and Q_B, Q_A have orthonormal columns.
    torch::Tensor r_b = std::get<1>(torch::linalg_qr(torch::cat(bs, 1), "reduced"));      // [min(rows, R), R]
    torch::Tensor r_a = std::get<1>(torch::linalg_qr(torch::cat(as, 0).t(), "reduced"));  // [min(in, R), R]
    return r_b.mm(r_a.t()).norm();
}

torch::Tensor frobenius_norm_on_device(const FactoredMatrix& x) { return frobenius_norm_of_sum_on_device({x}); }

torch::Tensor direction_norm_on_device(const FactoredDirection& d) {
    torch::Tensor sq = direction_algebra_zero(d);
    for (const auto& m : d) {
        const torch::Tensor n = frobenius_norm_on_device(m);
        sq = sq + n * n;
    }
    return sq.sqrt();
}

torch::Tensor gram_matrix(const std::vector<FactoredDirection>& dirs) {
    torch::NoGradGuard no_grad;
    const int64_t k = static_cast<int64_t>(dirs.size());
    if (k == 0) return torch::zeros({k, k}, torch::kFloat64);
    for (const auto& d : dirs) check_sites(d, dirs[0]);
    std::vector<torch::Tensor> entries(static_cast<size_t>(k * k));
    for (int64_t i = 0; i < k; ++i)
        for (int64_t j = i; j < k; ++j) {
            torch::Tensor s = direction_algebra_zero(dirs[i]);
            for (size_t site = 0; site < dirs[i].size(); ++site)
                s = s + frobenius_inner_on_device(dirs[i][site], dirs[j][site]);
            entries[static_cast<size_t>(i * k + j)] = entries[static_cast<size_t>(j * k + i)] = s;
        }
    return torch::stack(entries).reshape({k, k});
}

torch::Tensor residual_norm_on_device(const std::vector<FactoredDirection>& basis, const torch::Tensor& beta,
                                      const FactoredDirection& target) {
    torch::NoGradGuard no_grad;
    if (beta.numel() != static_cast<int64_t>(basis.size()))
        throw std::invalid_argument("direction algebra: " + std::to_string(beta.numel()) + " coefficients for " +
                                    std::to_string(basis.size()) + " directions");
    torch::Tensor sq = direction_algebra_zero(target);
    const torch::Tensor b = target.empty() ? f64(beta) : beta.detach().to(direction_algebra_options(target.front().B));
    for (size_t site = 0; site < target.size(); ++site) {
        std::vector<FactoredMatrix> terms = {target[site]};
        for (size_t k = 0; k < basis.size(); ++k) {
            check_sites(basis[k], target);
            FactoredMatrix m = basis[k][site];
            m.coef_on_device = direction_algebra_coef(m) * b[static_cast<int64_t>(k)].neg();
            terms.push_back(m);
        }
        const torch::Tensor n = frobenius_norm_of_sum_on_device(terms);
        sq = sq + n * n;
    }
    return sq.sqrt();
}

torch::Tensor DirectionFitOnDevice::relative_residual() const {
    return torch::where(target_norm > 0.0, residual / target_norm, torch::zeros_like(residual));
}

DirectionFitOnDevice fit_direction_on_device(const std::vector<FactoredDirection>& basis,
                                             const FactoredDirection& target, double rcond) {
    torch::NoGradGuard no_grad;
    DirectionFitOnDevice fit;
    fit.target_norm = direction_norm_on_device(target);
    const int64_t k = static_cast<int64_t>(basis.size());
    if (k == 0) {
        fit.beta = torch::zeros({0}, fit.target_norm.options());
        fit.residual = fit.target_norm;
        return fit;
    }
    torch::Tensor g = gram_matrix(basis);  // [K, K]
    std::vector<torch::Tensor> c;          // c_i = <basis_i, target>
    for (int64_t i = 0; i < k; ++i) {
        check_sites(basis[i], target);
        torch::Tensor s = direction_algebra_zero(target);
        for (size_t site = 0; site < target.size(); ++site)
            s = s + frobenius_inner_on_device(basis[i][site], target[site]);
        c.push_back(s);
    }
    const torch::Tensor cv = torch::stack(c).to(g.device());
    // Symmetric pseudo-inverse: G = V diag(λ) Vᵀ, β = V diag(1/λ) Vᵀ c over λ > rcond · max λ.
    auto [eigenvalues, vectors] = torch::linalg_eigh(g);
    const torch::Tensor cutoff = eigenvalues.abs().max().clamp_min(0.0) * rcond;
    torch::Tensor keep = eigenvalues > cutoff;
    torch::Tensor inv = torch::where(keep, 1.0 / torch::where(keep, eigenvalues, torch::ones_like(eigenvalues)),
                                     torch::zeros_like(eigenvalues));
    fit.beta = vectors.mv(inv * vectors.t().mv(cv));
    fit.residual = residual_norm_on_device(basis, fit.beta, target);
    return fit;
}

// ---- host forms: the device results, read back -----------------------------------------------------

double frobenius_inner(const FactoredMatrix& x, const FactoredMatrix& y) {
    return read_scalar(frobenius_inner_on_device(x, y));
}

double frobenius_norm_of_sum(const std::vector<FactoredMatrix>& terms) {
    return read_scalar(frobenius_norm_of_sum_on_device(terms));
}

double frobenius_norm(const FactoredMatrix& x) { return frobenius_norm_of_sum({x}); }

double direction_norm(const FactoredDirection& d) { return read_scalar(direction_norm_on_device(d)); }

double residual_norm(const std::vector<FactoredDirection>& basis, const torch::Tensor& beta,
                     const FactoredDirection& target) {
    return read_scalar(residual_norm_on_device(basis, beta, target));
}

DirectionFit fit_direction(const std::vector<FactoredDirection>& basis, const FactoredDirection& target, double rcond) {
    const DirectionFitOnDevice on_device = fit_direction_on_device(basis, target, rcond);
    const std::vector<double> norms = read_values(torch::stack({on_device.residual, on_device.target_norm}));
    DirectionFit fit;
    fit.beta = copy_to_host(on_device.beta);
    fit.residual = norms[0];
    fit.target_norm = norms[1];
    return fit;
}

}  // namespace lorica
