// LoRALinear in conv mode: the kernel keeps timm's shape while the terms work on its [out, C·k·k]
// matrix; forward (folded and factored paths) against a dense conv2d reference, exact merge,
// gradients against central differences, frozen-term cache with magnitudes.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/model/lora_linear.h"
#include "engine/model/model_paths.h"

using namespace lorica;

namespace {

// Restores the process-wide term path when a test changes it.
struct ConvTermPathScope {
    explicit ConvTermPathScope(TermPath path) : saved(model_paths().terms) { model_paths().terms = path; }
    ~ConvTermPathScope() { model_paths().terms = saved; }
    TermPath saved;
};

LoRALinear make_lora_conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t padding) {
    torch::manual_seed(3);
    LoRALinear layer(LoRALinearOptions::conv2d(in, out, k, stride, padding));
    layer->to(torch::kFloat64);
    return layer;
}

LowRankTerm random_conv_term(int64_t r, int64_t in_features, int64_t rows, int64_t offset, double scale,
                             bool trainable) {
    LowRankTerm t;
    t.A = torch::randn({r, in_features}, torch::kFloat64).requires_grad_(trainable);
    t.B = torch::randn({rows, r}, torch::kFloat64).requires_grad_(trainable);
    t.scale = scale;
    t.row_offset = offset;
    return t;
}

// conv2d(x, W + Σ s·m·pad(B A).view(kernel)) computed from the factors by hand.
torch::Tensor conv_dense_reference(LoRALinear& layer, const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    const auto& o = layer->options;
    torch::Tensor w = layer->weight.detach().clone().view({o.out_features(), o.in_features()});
    for (const auto& t : layer->terms()) {
        torch::Tensor d = t.B.detach().mm(t.A.detach()) * t.scale;
        if (t.magnitude.defined()) d = d * t.magnitude.detach();
        w.slice(0, t.row_offset, t.row_offset + t.rows()) += d;
    }
    return torch::conv2d(x, w.view(layer->weight.sizes()), {}, o.stride(), o.padding());
}

}  // namespace

TEST(LoRAConv, KernelKeepsTimmShapeAndMatrixIsAView) {
    LoRALinear layer(LoRALinearOptions::conv2d(8, 16, 3, 2, 1));
    EXPECT_EQ(layer->weight.sizes(), (std::vector<int64_t>{16, 8, 3, 3}));
    EXPECT_EQ(layer->options.in_features(), 72);
    EXPECT_EQ(layer->options.in_channels(), 8);
    EXPECT_FALSE(layer->bias.defined());
    EXPECT_EQ(layer->matrix().sizes(), (std::vector<int64_t>{16, 72}));
    {
        torch::NoGradGuard no_grad;
        layer->matrix()[2][5 * 9 + 4] = 7.0;  // row 2, channel 5, centre tap
    }
    EXPECT_EQ(layer->weight[2][5][1][1].item<double>(), 7.0);
    // Plain forward is conv2d with the layer's stride and padding.
    auto x = torch::randn({2, 8, 9, 9});
    auto y = layer->forward(x);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 16, 5, 5}));
    EXPECT_TRUE(torch::allclose(y, torch::conv2d(x, layer->weight, {}, 2, 1), 1e-6, 1e-6));
}

TEST(LoRAConv, FoldedAndFactoredForwardsEqualDenseReference) {
    for (int64_t k : {1, 3}) {
        auto layer = make_lora_conv(6, 10, k, k == 3 ? 2 : 1, k / 2);
        const int64_t in = layer->options.in_features();
        layer->add_term(random_conv_term(2, in, 4, 3, 0.5, /*trainable*/ true));    // a slice of the output channels
        layer->add_term(random_conv_term(3, in, 10, 0, 1.5, /*trainable*/ false));  // frozen: cached fold
        auto x = torch::randn({3, 6, 7, 7}, torch::kFloat64);
        const auto expected = conv_dense_reference(layer, x);
        for (TermPath path : {TermPath::folded, TermPath::factored}) {
            ConvTermPathScope scope(path);
            EXPECT_TRUE(torch::allclose(layer->forward(x), expected, 1e-10, 1e-10)) << "k " << k;
        }
    }
}

TEST(LoRAConv, FactoredPathIsPeftsConvLoRA) {
    // PEFT's Conv2d LoRA: y = conv(x, W) + lora_B(lora_A(x))·s with lora_A a k×k conv C → r (the
    // layer's stride and padding) and lora_B a 1×1 conv r → out.
    auto layer = make_lora_conv(4, 8, 3, 1, 1);
    auto& t = layer->add_term(random_conv_term(2, 36, 8, 0, 2.0, true));
    auto x = torch::randn({2, 4, 5, 5}, torch::kFloat64);
    torch::NoGradGuard no_grad;
    auto lora_a = t.A.view({2, 4, 3, 3}), lora_b = t.B.view({8, 2, 1, 1});
    auto peft =
        torch::conv2d(x, layer->weight, {}, 1, 1) + torch::conv2d(torch::conv2d(x, lora_a, {}, 1, 1), lora_b) * 2.0;
    ConvTermPathScope scope(TermPath::factored);
    EXPECT_TRUE(torch::allclose(layer->forward(x), peft, 1e-10, 1e-10));
}

TEST(LoRAConv, MergeIsExact) {
    // float32, as in training: the merged conv equals the unmerged forward to ≤ 1e-5.
    torch::manual_seed(5);
    LoRALinear layer(LoRALinearOptions::conv2d(16, 32, 3, 1, 1));
    auto t = LowRankTerm::lora(4, layer->options.in_features(), 32, 0, 0.5);
    {
        torch::NoGradGuard no_grad;
        t.B.normal_(0.0, 0.1);
    }
    layer->add_term(t);
    auto x = torch::randn({2, 16, 8, 8});
    const auto before = layer->forward(x).detach();
    const auto merged = layer->merged_weight();
    EXPECT_EQ(merged.sizes(), layer->weight.sizes());
    layer->merge_terms();
    EXPECT_TRUE(layer->terms().empty());
    EXPECT_TRUE(torch::equal(layer->weight.detach(), merged));
    EXPECT_LE((layer->forward(x) - before).abs().max().item<double>(), 1e-5);
}

TEST(LoRAConv, GradientsMatchFiniteDifferences) {
    // L = sum(sin(y)) with a trainable term (A, B) and a frozen term whose magnitude trains (SD-LoRA's
    // shape); analytic gradients vs central differences (h = 1e-6), both term paths.
    for (TermPath path : {TermPath::folded, TermPath::factored}) {
        ConvTermPathScope scope(path);
        auto layer = make_lora_conv(3, 5, 3, 2, 1);
        auto trainable = random_conv_term(2, 27, 3, 2, 0.5, true);
        auto frozen = random_conv_term(2, 27, 5, 0, 1.0, false);
        frozen.magnitude = torch::tensor(0.8, torch::kFloat64).requires_grad_(true);
        layer->add_term(trainable);
        layer->add_term(frozen);
        auto x = torch::randn({2, 3, 6, 6}, torch::kFloat64).requires_grad_(true);
        auto loss = [&] { return torch::sin(layer->forward(x)).sum(); };
        loss().backward();
        for (torch::Tensor p : {trainable.A, trainable.B, frozen.magnitude, x}) {
            torch::Tensor analytic = p.grad().clone();
            torch::Tensor flat = p.detach().view({-1});
            for (int64_t i = 0; i < std::min<int64_t>(flat.numel(), 6); ++i) {
                const double h = 1e-6, saved = flat[i].item<double>();
                double plus, minus;
                {
                    torch::NoGradGuard no_grad;
                    flat[i] = saved + h;
                    plus = loss().item<double>();
                    flat[i] = saved - h;
                    minus = loss().item<double>();
                    flat[i] = saved;
                }
                EXPECT_NEAR(analytic.view({-1})[i].item<double>(), (plus - minus) / (2 * h), 1e-5);
            }
        }
    }
}

TEST(LoRAConv, FrozenMagnitudeStackFollowsMagnitude) {
    // Two frozen terms sharing one magnitude (SD-LoRA): the cached stack must follow the magnitude's value.
    auto layer = make_lora_conv(4, 6, 1, 1, 0);
    auto m = torch::tensor(0.5, torch::kFloat64).requires_grad_(true);
    for (int i = 0; i < 2; ++i) {
        auto t = random_conv_term(2, 4, 6, 0, 1.0, false);
        t.magnitude = m;
        layer->add_term(t);
    }
    auto x = torch::randn({2, 4, 3, 3}, torch::kFloat64);
    EXPECT_TRUE(torch::allclose(layer->forward(x), conv_dense_reference(layer, x), 1e-10, 1e-10));
    {
        torch::NoGradGuard no_grad;
        m.fill_(-1.25);
    }
    EXPECT_TRUE(torch::allclose(layer->forward(x), conv_dense_reference(layer, x), 1e-10, 1e-10));
}

TEST(LoRAConv, TermWithWrongWidthIsRefused) {
    LoRALinear layer(LoRALinearOptions::conv2d(4, 6, 3, 1, 1));
    EXPECT_THROW(layer->add_term(LowRankTerm::lora(2, 4, 6, 0, 1.0)), c10::Error) << "A must span C·k·k = 36";
    EXPECT_NO_THROW(layer->add_term(LowRankTerm::lora(2, 36, 6, 0, 1.0)));
}
