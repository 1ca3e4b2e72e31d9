// LoRALinear: the low-rank terms, their merge, slices of a fused qkv, and the gradients against
// central finite differences in float64.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/model/lora_linear.h"

using namespace lorica;

namespace {

LoRALinear make_layer(int64_t in, int64_t out, torch::Dtype dtype = torch::kFloat64) {
    torch::manual_seed(1);
    LoRALinear layer(LoRALinearOptions(in, out));
    layer->to(dtype);
    return layer;
}

LowRankTerm random_term(int64_t r, int64_t in, int64_t rows, int64_t offset, double scale, bool trainable) {
    LowRankTerm t;
    t.A = torch::randn({r, in}, torch::kFloat64).requires_grad_(trainable);
    t.B = torch::randn({rows, r}, torch::kFloat64).requires_grad_(trainable);
    t.scale = scale;
    t.row_offset = offset;
    return t;
}

}  // namespace

TEST(LoRALinear, NewTermStartsAsIdentityUpdate) {
    auto layer = make_layer(6, 9, torch::kFloat32);
    auto x = torch::randn({4, 6});
    auto before = layer->forward(x);
    auto& t = layer->add_term(LowRankTerm::lora(3, 6, 3, 6, 2.0));
    EXPECT_TRUE(torch::equal(layer->forward(x), before)) << "B = 0 at init: the output must not change";
    // PEFT's kaiming-uniform bound 1/sqrt(in)
    EXPECT_LE(t.A.abs().max().item<double>(), 1.0 / std::sqrt(6.0) + 1e-7);
    EXPECT_EQ(t.B.abs().sum().item<double>(), 0.0);
}

TEST(LoRALinear, ForwardEqualsDenseUpdateOnSlices) {
    // A fused qkv of width 3·4: a q term (rows 0..3) and a v term (rows 8..11), one trainable (factored
    // path), one frozen (folded into the weight). y must equal x (W + ΔW)ᵀ + b computed by hand.
    auto layer = make_layer(4, 12);
    auto q = random_term(2, 4, 4, 0, 0.5, true);
    auto v = random_term(3, 4, 4, 8, 1.5, false);
    v.magnitude = torch::tensor(0.7, torch::kFloat64);
    layer->add_term(q);
    layer->add_term(v);
    auto x = torch::randn({5, 4}, torch::kFloat64);
    auto w = layer->weight.detach().clone();
    w.slice(0, 0, 4) += 0.5 * q.B.detach().mm(q.A.detach());
    w.slice(0, 8, 12) += 1.5 * 0.7 * v.B.mm(v.A);
    auto expected = x.mm(w.t()) + layer->bias.detach();
    EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(layer->merged_weight(), w, 1e-12, 1e-12));
    // k rows untouched
    EXPECT_TRUE(torch::equal(layer->merged_weight().slice(0, 4, 8), layer->weight.detach().slice(0, 4, 8)));
}

TEST(LoRALinear, MergeTermsKeepsOutputAndDropsTerms) {
    auto layer = make_layer(5, 7);
    layer->add_term(random_term(2, 5, 7, 0, 0.25, true));
    auto x = torch::randn({3, 5}, torch::kFloat64);
    auto before = layer->forward(x).detach();
    layer->merge_terms();
    EXPECT_TRUE(layer->terms().empty());
    EXPECT_TRUE(torch::allclose(layer->forward(x), before, 1e-12, 1e-12));
}

TEST(LoRALinear, GradientsMatchFiniteDifferences) {
    // Loss L = sum(sin(y)) of a layer with a trainable term (A, B) and a frozen term whose magnitude
    // trains. Analytic gradients of A, B, the magnitude and the input vs central differences (h = 1e-6).
    auto layer = make_layer(4, 6);
    auto trainable = random_term(2, 4, 3, 3, 0.5, true);
    auto frozen = random_term(2, 4, 6, 0, 1.0, false);
    frozen.magnitude = torch::tensor(0.8, torch::kFloat64).requires_grad_(true);
    layer->add_term(trainable);
    layer->add_term(frozen);
    auto x = torch::randn({3, 4}, torch::kFloat64).requires_grad_(true);
    auto loss_of = [&] { return torch::sin(layer->forward(x)).sum(); };
    loss_of().backward();

    for (torch::Tensor p : {trainable.A, trainable.B, frozen.magnitude, x}) {
        auto analytic = p.grad().clone();
        auto flat = p.detach().view({-1});
        for (int64_t i = 0; i < flat.numel(); ++i) {
            const double h = 1e-6, orig = flat[i].item<double>();
            double plus, minus;
            {
                torch::NoGradGuard g;
                flat[i] = orig + h;
                plus = loss_of().item<double>();
                flat[i] = orig - h;
                minus = loss_of().item<double>();
                flat[i] = orig;
            }
            const double numeric = (plus - minus) / (2 * h);
            EXPECT_NEAR(analytic.view({-1})[i].item<double>(), numeric, 1e-6 * std::max(1.0, std::abs(numeric)));
        }
    }
}

TEST(LoRALinear, RejectsTermsThatDoNotFit) {
    auto layer = make_layer(4, 6);
    EXPECT_THROW(layer->add_term(random_term(2, 5, 6, 0, 1.0, true)), c10::Error);  // wrong in
    EXPECT_THROW(layer->add_term(random_term(2, 4, 4, 3, 1.0, true)), c10::Error);  // rows 3..7 > 6
}
