// LoRALinear's cached fold of frozen terms: both forms (dense stack per magnitude, factored
// concatenation above kMaxFrozenStackElements) equal the dense reference, follow magnitude changes without a rebuild, rebuild when
// a frozen factor changes in place or a term is removed, and pass the exact gradient to magnitudes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/model/lora_linear.h"

using namespace lorica;

namespace {

LowRankTerm frozen_term(int64_t r, int64_t in, int64_t rows, int64_t offset, double scale, torch::Tensor magnitude) {
    LowRankTerm t;
    t.A = torch::randn({r, in}, torch::kFloat64);
    t.B = torch::randn({rows, r}, torch::kFloat64);
    t.scale = scale;
    t.row_offset = offset;
    t.magnitude = std::move(magnitude);
    return t;
}

// x (W + Σ scale_k m_k B_k A_k)ᵀ + b, by hand.
torch::Tensor reference(const LoRALinear& layer, const torch::Tensor& x) {
    torch::NoGradGuard g;
    auto w = layer->weight.detach().clone();
    for (const auto& t : layer->terms()) {
        double m = t.magnitude.defined() ? t.magnitude.item<double>() : 1.0;
        w.slice(0, t.row_offset, t.row_offset + t.rows()) += t.B.detach().mm(t.A.detach()) * (t.scale * m);
    }
    return x.mm(w.t()) + layer->bias.detach();
}

// Layer widths out = 2·in (so q/v-like slices fit); `extra_groups` more rank-1 terms with their own
// magnitudes push G·out·in above kMaxFrozenStackElements for the factored form.
void check_fold(int64_t in, int extra_groups, torch::Dtype dtype, double tol) {
    const int64_t out = 2 * in, rows = in / 2;
    torch::manual_seed(2);
    LoRALinear layer(LoRALinearOptions(in, out));
    layer->to(dtype);
    auto opts = torch::TensorOptions().dtype(dtype);
    auto alpha0 = torch::tensor(0.8, opts).requires_grad_(true);
    auto alpha1 = torch::tensor(-1.3, opts).requires_grad_(true);
    auto term = [&](int64_t r, int64_t rows_, int64_t offset, double scale, torch::Tensor m) {
        LowRankTerm t = frozen_term(r, in, rows_, offset, scale, std::move(m));
        t.A = t.A.to(dtype) / std::sqrt(static_cast<double>(in));
        t.B = t.B.to(dtype);
        return t;
    };
    // Task 0's "q" and "v" share alpha0 (one group), task 1's "q" has alpha1, one term has no magnitude.
    layer->add_term(term(2, rows, 0, 0.5, alpha0)).tag = "t0";
    layer->add_term(term(2, rows, out - rows, 0.7, alpha0)).tag = "t0";
    layer->add_term(term(3, rows, 0, 1.1, alpha1)).tag = "t1";
    layer->add_term(term(1, out, 0, 2.0, {})).tag = "plain";
    for (int g = 0; g < extra_groups; ++g)
        layer->add_term(term(1, rows, 0, 0.01, torch::tensor(0.1 * g, opts).requires_grad_(true))).tag = "extra";
    auto x = torch::randn({5, in}, opts);
    auto close = [&] { return torch::allclose(layer->forward(x), reference(layer, x), tol, tol); };
    EXPECT_TRUE(close()) << in;
    {
        torch::NoGradGuard g;
        alpha1.fill_(0.25);             // magnitudes are read at every forward
        layer->terms()[0].B.mul_(3.0);  // an in-place change of a frozen factor rebuilds the fold
    }
    EXPECT_TRUE(close()) << in;
    layer->remove_terms("t1");
    EXPECT_TRUE(close()) << in;

    // d(Σ y)/dα0 = Σ over the t0 terms of Σ x (scale B A)ᵀ.
    layer->forward(x).sum().backward();
    double expected = 0.0;
    for (const auto& t : layer->terms())
        if (t.tag == "t0") expected += x.mm((t.B.mm(t.A) * t.scale).t()).sum().item<double>();
    EXPECT_NEAR(alpha0.grad().item<double>(), expected, tol * std::max(1.0, std::abs(expected))) << in;
}

}  // namespace

TEST(LoRALinearFrozenFold, DenseStackMatchesTheReferenceAndTracksChanges) { check_fold(6, 0, torch::kFloat64, 1e-12); }

TEST(LoRALinearFrozenFold, FactoredFormAboveTheStackLimitMatchesTheReference) {
    // 102 groups · out · in = 102 · 584 · 292 > kMaxFrozenStackElements: the factored form runs.
    ASSERT_GT(int64_t{102} * 584 * 292, LoRALinearImpl::kMaxFrozenStackElements);
    check_fold(292, 100, torch::kFloat64, 1e-10);
}

TEST(LoRALinearFrozenFold, FreezingATrainableTermMovesItIntoTheFold) {
    torch::manual_seed(3);
    LoRALinear layer(LoRALinearOptions(5, 5));
    layer->to(torch::kFloat64);
    LowRankTerm t = frozen_term(2, 5, 5, 0, 1.0, torch::tensor(1.5, torch::kFloat64));
    t.A.requires_grad_(true);
    t.B.requires_grad_(true);
    auto& term = layer->add_term(t);
    auto x = torch::randn({3, 5}, torch::kFloat64);
    auto trainable = layer->forward(x).detach();
    term.A.set_requires_grad(false);
    term.B.set_requires_grad(false);
    EXPECT_FALSE(term.trainable_factors());
    EXPECT_TRUE(torch::allclose(layer->forward(x), trainable, 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(layer->forward(x), reference(layer, x), 1e-12, 1e-12));
}
