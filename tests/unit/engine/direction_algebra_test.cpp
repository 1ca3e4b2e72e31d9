// Factored-direction algebra against dense computations on small random matrices: inner products,
// norms, the Gram matrix, least-squares β (vs. torch::linalg_lstsq on the flattened matrices) and
// the explicit residual; exact combinations give residual ~0, orthogonal targets β = 0.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/methods/direction_algebra.h"

using namespace lorica;

namespace {

// Two sites: [5, 7] with rank 2 and [4, 6] with rank 3 (rank varies by direction below).
const std::vector<std::pair<int64_t, int64_t>> kSites = {{5, 7}, {4, 6}};

FactoredDirection random_direction(int64_t rank, double coef = 1.0) {
    FactoredDirection d;
    for (auto [rows, in] : kSites)
        d.push_back({torch::randn({rows, rank}, torch::kFloat64), torch::randn({rank, in}, torch::kFloat64), coef});
    return d;
}

torch::Tensor dense(const FactoredMatrix& m) { return m.B.mm(m.A) * m.coef; }

// The direction flattened over its sites: [Σ rows·in].
torch::Tensor flat(const FactoredDirection& d) {
    std::vector<torch::Tensor> parts;
    for (const auto& m : d) parts.push_back(dense(m).reshape({-1}));
    return torch::cat(parts);
}

}  // namespace

TEST(DirectionAlgebra, InnerProductAndNormMatchDense) {
    torch::manual_seed(3);
    FactoredMatrix x{torch::randn({5, 2}, torch::kFloat64), torch::randn({2, 7}, torch::kFloat64), 0.7};
    FactoredMatrix y{torch::randn({5, 4}, torch::kFloat64), torch::randn({4, 7}, torch::kFloat64), -1.3};
    EXPECT_NEAR(frobenius_inner(x, y), (dense(x) * dense(y)).sum().item<double>(), 1e-10);
    EXPECT_NEAR(frobenius_norm(x), dense(x).norm().item<double>(), 1e-12);
    // Tiny norms are exact relative to their size (no cancellation).
    FactoredMatrix tiny{x.B * 1e-7, x.A, 1.0};
    EXPECT_NEAR(frobenius_norm(tiny) / dense(tiny).norm().item<double>(), 1.0, 1e-10);
    EXPECT_NEAR(frobenius_norm_of_sum({x, y}), (dense(x) + dense(y)).norm().item<double>(), 1e-10);
    // float32 factors are promoted to float64.
    FactoredMatrix x32{x.B.to(torch::kFloat32), x.A.to(torch::kFloat32), 0.7};
    EXPECT_NEAR(frobenius_norm(x32), dense(x).norm().item<double>(), 1e-5);
}

TEST(DirectionAlgebra, GramMatrixMatchesDense) {
    torch::manual_seed(4);
    std::vector<FactoredDirection> dirs = {random_direction(2), random_direction(3, 0.5), random_direction(1, -2.0)};
    auto g = gram_matrix(dirs);
    ASSERT_EQ(g.sizes(), (torch::IntArrayRef{3, 3}));
    std::vector<torch::Tensor> cols;
    for (const auto& d : dirs) cols.push_back(flat(d));
    auto f = torch::stack(cols, 1);  // [N, 3]
    EXPECT_TRUE(torch::allclose(g, f.t().mm(f), 1e-10, 1e-10));
    EXPECT_EQ(gram_matrix({}).numel(), 0);
}

TEST(DirectionAlgebra, LeastSquaresAndResidualMatchDense) {
    torch::manual_seed(5);
    std::vector<FactoredDirection> basis = {random_direction(2), random_direction(2), random_direction(3)};
    FactoredDirection target = random_direction(2, 0.3);
    DirectionFit fit = fit_direction(basis, target);
    std::vector<torch::Tensor> cols;
    for (const auto& d : basis) cols.push_back(flat(d));
    auto f = torch::stack(cols, 1);
    auto t = flat(target);
    auto beta = std::get<0>(torch::linalg_lstsq(f, t.unsqueeze(1), c10::nullopt, c10::nullopt)).squeeze(1);
    EXPECT_TRUE(torch::allclose(fit.beta, beta, 1e-8, 1e-10)) << fit.beta << beta;
    EXPECT_NEAR(fit.residual, (t - f.mv(beta)).norm().item<double>(), 1e-10);
    EXPECT_NEAR(fit.target_norm, t.norm().item<double>(), 1e-10);
    EXPECT_GT(fit.relative_residual(), 0.5);  // a random target is far from a 3-dim span
    EXPECT_NEAR(residual_norm(basis, beta, target), fit.residual, 1e-10);
}

TEST(DirectionAlgebra, ExactCombinationHasZeroResidual) {
    torch::manual_seed(6);
    std::vector<FactoredDirection> basis = {random_direction(2), random_direction(3, 0.4)};
    // target = 1.5 d0 − 2 d1 in every site, in factored form (rank 5).
    FactoredDirection target;
    for (size_t s = 0; s < kSites.size(); ++s) {
        const auto& a = basis[0][s];
        const auto& b = basis[1][s];
        target.push_back(
            {torch::cat({a.B * (1.5 * a.coef), b.B * (-2.0 * b.coef)}, 1), torch::cat({a.A, b.A}, 0), 1.0});
    }
    DirectionFit fit = fit_direction(basis, target);
    EXPECT_NEAR(fit.beta[0].item<double>(), 1.5, 1e-9);
    EXPECT_NEAR(fit.beta[1].item<double>(), -2.0, 1e-9);
    EXPECT_LT(fit.relative_residual(), 1e-10);
    // A duplicated basis direction (singular Gram matrix) still fits exactly: minimum-norm β.
    std::vector<FactoredDirection> degenerate = {basis[0], basis[0], basis[1]};
    DirectionFit fit2 = fit_direction(degenerate, target);
    EXPECT_NEAR(fit2.beta[0].item<double>(), 0.75, 1e-8);
    EXPECT_NEAR(fit2.beta[1].item<double>(), 0.75, 1e-8);
    EXPECT_LT(fit2.relative_residual(), 1e-9);
}

TEST(DirectionAlgebra, OrthogonalTargetKeepsItsWholeNorm) {
    torch::manual_seed(7);
    // Row spaces of A orthogonal: <B0 A0, B1 A1>_F = trace(B0ᵀ B1 A1 A0ᵀ) = 0.
    FactoredDirection d0, d1;
    for (auto [rows, in] : kSites) {
        auto q = std::get<0>(torch::linalg_qr(torch::randn({in, 4}, torch::kFloat64), "reduced"));
        d0.push_back({torch::randn({rows, 2}, torch::kFloat64), q.slice(1, 0, 2).t(), 1.0});
        d1.push_back({torch::randn({rows, 2}, torch::kFloat64), q.slice(1, 2, 4).t(), 1.0});
    }
    DirectionFit fit = fit_direction({d0}, d1);
    EXPECT_NEAR(fit.beta[0].item<double>(), 0.0, 1e-12);
    EXPECT_NEAR(fit.relative_residual(), 1.0, 1e-12);
    DirectionFit none = fit_direction({}, d1);
    EXPECT_EQ(none.beta.numel(), 0);
    EXPECT_NEAR(none.residual, none.target_norm, 1e-15);
}
