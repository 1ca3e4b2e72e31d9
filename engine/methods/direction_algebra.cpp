#include "engine/methods/direction_algebra.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include <torch/torch.h>

namespace lorica {
namespace {

torch::Tensor f64(const torch::Tensor& t) { return t.detach().to(torch::kFloat64); }

void check_sites(const FactoredDirection& a, const FactoredDirection& b) {
    if (a.size() != b.size())
        throw std::invalid_argument("direction algebra: directions over " + std::to_string(a.size()) + " and " +
                                    std::to_string(b.size()) + " sites cannot be compared");
}

}  // namespace

double frobenius_inner(const FactoredMatrix& x, const FactoredMatrix& y) {
    torch::NoGradGuard no_grad;
    torch::Tensor bb = f64(x.B).t().mm(f64(y.B));  // [r_x, r_y]
    torch::Tensor aa = f64(x.A).mm(f64(y.A).t());  // [r_x, r_y]
    return x.coef * y.coef * (bb * aa).sum().item<double>();
}

double frobenius_norm_of_sum(const std::vector<FactoredMatrix>& terms) {
    torch::NoGradGuard no_grad;
    if (terms.empty()) return 0.0;
    std::vector<torch::Tensor> bs, as;
    for (const auto& t : terms) {
        bs.push_back(f64(t.B) * t.coef);
        as.push_back(f64(t.A));
    }
    // Σ c_i B_i A_i = B_cat A_cat = Q_B R_B R_Aᵀ Q_Aᵀ, and Q_B, Q_A have orthonormal columns.
    torch::Tensor r_b = std::get<1>(torch::linalg_qr(torch::cat(bs, 1), "reduced"));      // [min(rows, R), R]
    torch::Tensor r_a = std::get<1>(torch::linalg_qr(torch::cat(as, 0).t(), "reduced"));  // [min(in, R), R]
    return r_b.mm(r_a.t()).norm().item<double>();
}

double frobenius_norm(const FactoredMatrix& x) { return frobenius_norm_of_sum({x}); }

double direction_norm(const FactoredDirection& d) {
    double sq = 0.0;
    for (const auto& m : d) {
        const double n = frobenius_norm(m);
        sq += n * n;
    }
    return std::sqrt(sq);
}

torch::Tensor gram_matrix(const std::vector<FactoredDirection>& dirs) {
    torch::NoGradGuard no_grad;
    const int64_t k = static_cast<int64_t>(dirs.size());
    torch::Tensor g = torch::zeros({k, k}, torch::kFloat64);
    if (k == 0) return g;
    for (const auto& d : dirs) check_sites(d, dirs[0]);
    auto acc = g.accessor<double, 2>();
    for (int64_t i = 0; i < k; ++i)
        for (int64_t j = i; j < k; ++j) {
            double s = 0.0;
            for (size_t site = 0; site < dirs[i].size(); ++site) s += frobenius_inner(dirs[i][site], dirs[j][site]);
            acc[i][j] = acc[j][i] = s;
        }
    return g;
}

double residual_norm(const std::vector<FactoredDirection>& basis, const torch::Tensor& beta,
                     const FactoredDirection& target) {
    torch::NoGradGuard no_grad;
    torch::Tensor b = beta.detach().to(torch::kCPU, torch::kFloat64);
    if (b.numel() != static_cast<int64_t>(basis.size()))
        throw std::invalid_argument("direction algebra: " + std::to_string(b.numel()) + " coefficients for " +
                                    std::to_string(basis.size()) + " directions");
    double sq = 0.0;
    for (size_t site = 0; site < target.size(); ++site) {
        std::vector<FactoredMatrix> terms = {target[site]};
        for (size_t k = 0; k < basis.size(); ++k) {
            check_sites(basis[k], target);
            FactoredMatrix m = basis[k][site];
            m.coef *= -b[static_cast<int64_t>(k)].item<double>();
            terms.push_back(m);
        }
        const double n = frobenius_norm_of_sum(terms);
        sq += n * n;
    }
    return std::sqrt(sq);
}

DirectionFit fit_direction(const std::vector<FactoredDirection>& basis, const FactoredDirection& target, double rcond) {
    torch::NoGradGuard no_grad;
    DirectionFit fit;
    fit.target_norm = direction_norm(target);
    const int64_t k = static_cast<int64_t>(basis.size());
    fit.beta = torch::zeros({k}, torch::kFloat64);
    if (k == 0) {
        fit.residual = fit.target_norm;
        return fit;
    }
    torch::Tensor g = gram_matrix(basis);  // [K, K]
    torch::Tensor c = torch::zeros({k}, torch::kFloat64);
    for (int64_t i = 0; i < k; ++i) {
        check_sites(basis[i], target);
        double s = 0.0;
        for (size_t site = 0; site < target.size(); ++site) s += frobenius_inner(basis[i][site], target[site]);
        c[i] = s;
    }
    // Symmetric pseudo-inverse: G = V diag(λ) Vᵀ, β = V diag(1/λ) Vᵀ c over λ > rcond · max λ.
    auto [eigenvalues, vectors] = torch::linalg_eigh(g);
    const double cutoff = rcond * std::max(eigenvalues.abs().max().item<double>(), 0.0);
    torch::Tensor keep = eigenvalues > cutoff;
    torch::Tensor inv = torch::where(keep, 1.0 / torch::where(keep, eigenvalues, torch::ones_like(eigenvalues)),
                                     torch::zeros_like(eigenvalues));
    fit.beta = vectors.mv(inv * vectors.t().mv(c));
    fit.residual = residual_norm(basis, fit.beta, target);
    return fit;
}

}  // namespace lorica
