// LoRA dropout (LowRankTerm::dropout, PEFT's lora_dropout): p = 0 and eval mode leave the output and
// the global generator exactly as without dropout; in training mode the output and the gradients of
// A and B equal a hand-built reference W x + b + s·B A (mask ⊙ x)/(1 − p) with the mask redrawn from the
// same seed, linear and conv mode, whatever the fold rule; over many draws the mean output is the
// p = 0 output; frozen terms never drop; merged-lora reads method.options.dropout and sets it on its
// terms (update = full refuses it), and so does sequential-lora.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>

#include <torch/torch.h>

#include "engine/methods/baselines.h"
#include "engine/methods/merged_lora.h"
#include "engine/model/lora_linear.h"
#include "engine/model/model_paths.h"
#include "tests/support/method_bench.h"

using namespace lorica;

namespace {

constexpr uint64_t kDropoutSeed = 1234;

// Restores the process-wide term path when a test forces one.
struct DropoutTermPathScope {
    explicit DropoutTermPathScope(TermPath path) : saved(model_paths().terms) { model_paths().terms = path; }
    ~DropoutTermPathScope() { model_paths().terms = saved; }
    TermPath saved;
};

LowRankTerm dropout_test_term(int64_t r, int64_t in, int64_t rows, int64_t offset, double scale, double p,
                              bool trainable = true) {
    LowRankTerm t;
    t.A = torch::randn({r, in}, torch::kFloat64).requires_grad_(trainable);
    t.B = torch::randn({rows, r}, torch::kFloat64).requires_grad_(trainable);
    t.scale = scale;
    t.row_offset = offset;
    t.dropout = p;
    return t;
}

// A float64 linear layer 12 → 18 with one trainable term on rows [6, 12) (q/v-like) of dropout p.
LoRALinear dropout_linear(double p) {
    torch::manual_seed(5);
    LoRALinear layer(LoRALinearOptions(12, 18));
    layer->to(torch::kFloat64);
    layer->add_term(dropout_test_term(3, 12, 6, 6, 0.75, p));
    return layer;
}

// A float64 3×3 conv 4 → 6 channels, stride 2, padding 1, with one trainable term on all rows.
LoRALinear dropout_conv(double p) {
    torch::manual_seed(6);
    LoRALinear layer(LoRALinearOptions::conv2d(4, 6, 3, 2, 1));
    layer->to(torch::kFloat64);
    layer->add_term(dropout_test_term(2, 4 * 9, 6, 0, 1.5, p));
    return layer;
}

// The mask scaled as at::dropout scales it: Bernoulli(1 − p) / (1 − p), drawn after seeding.
torch::Tensor redrawn_scaled_mask(const torch::Tensor& x, double p) {
    torch::manual_seed(kDropoutSeed);
    return torch::empty_like(x).bernoulli_(1.0 - p).div_(1.0 - p);
}

// W x + b + s·pad(B A (mask ⊙ x)) computed by hand from the layer's tensors; A and B are the given
// (differentiable) copies.
torch::Tensor dropout_reference(LoRALinear& layer, const torch::Tensor& x, const torch::Tensor& scaled_mask,
                                const torch::Tensor& A, const torch::Tensor& B) {
    const LowRankTerm& t = layer->terms().at(0);
    const auto& o = layer->options;
    const torch::Tensor xd = x * scaled_mask;
    if (o.is_conv()) {
        torch::Tensor y = torch::conv2d(x, layer->weight.detach(), {}, o.stride(), o.padding());
        torch::Tensor z =
            torch::conv2d(torch::conv2d(xd, A.view({t.rank(), o.in_channels(), o.kernel_size(), o.kernel_size()}), {},
                                        o.stride(), o.padding()),
                          B.view({t.rows(), t.rank(), 1, 1})) *
            t.scale;
        return y + torch::constant_pad_nd(z, {0, 0, 0, 0, t.row_offset, o.out_features() - t.row_offset - t.rows()});
    }
    torch::Tensor y = torch::nn::functional::linear(x, layer->weight.detach(), layer->bias.detach());
    torch::Tensor z = xd.matmul(A.t()).matmul(B.t()) * t.scale;
    return y + torch::constant_pad_nd(z, {t.row_offset, o.out_features() - t.row_offset - t.rows()});
}

// The next number the global generator would give (to see whether a forward drew from it).
double next_draw_after_seed(const std::function<void()>& between) {
    torch::manual_seed(kDropoutSeed);
    between();
    return torch::rand({1}, torch::kFloat64).item<double>();
}

// Forward in training mode from kDropoutSeed, output and the gradients of A and B against the
// reference for the loss Σ y ⊙ g.
void expect_dropout_matches_reference(LoRALinear& layer, const torch::Tensor& x, double p) {
    layer->train();
    const torch::Tensor g = torch::randn_like(
        dropout_reference(layer, x, torch::ones_like(x), layer->terms()[0].A.detach(), layer->terms()[0].B.detach()));
    torch::manual_seed(kDropoutSeed);
    torch::Tensor y = layer->forward(x);
    (y * g).sum().backward();

    const torch::Tensor mask = redrawn_scaled_mask(x, p);
    const std::set<double> values(mask.data_ptr<double>(), mask.data_ptr<double>() + mask.numel());
    EXPECT_EQ(values, (std::set<double>{0.0, 1.0 / (1.0 - p)})) << "a Bernoulli mask scaled by 1/(1 − p)";
    const LowRankTerm& t = layer->terms()[0];
    torch::Tensor A = t.A.detach().clone().requires_grad_(true), B = t.B.detach().clone().requires_grad_(true);
    torch::Tensor ref = dropout_reference(layer, x, mask, A, B);
    (ref * g).sum().backward();

    EXPECT_TRUE(torch::allclose(y, ref, 1e-12, 1e-12)) << (y - ref).abs().max().item<double>();
    EXPECT_TRUE(torch::allclose(t.A.grad(), A.grad(), 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(t.B.grad(), B.grad(), 1e-12, 1e-12));
    // The dropout changed the output: the reference without the mask differs.
    torch::NoGradGuard no_grad;
    const torch::Tensor undropped = dropout_reference(layer, x, torch::ones_like(x), t.A, t.B);
    EXPECT_GT((y - undropped).abs().max().item<double>(), 1e-3);
}

}  // namespace

TEST(LoRADropout, ZeroProbabilityIsTheLayerWithoutDropoutAndDrawsNothing) {
    LoRALinear layer = dropout_linear(0.0);
    layer->train();
    const torch::Tensor x = torch::randn({5, 12}, torch::kFloat64);
    torch::Tensor y;
    const double after_forward = next_draw_after_seed([&] { y = layer->forward(x); });
    EXPECT_EQ(after_forward, next_draw_after_seed([] {})) << "p = 0 must not advance the generator";
    const LowRankTerm& t = layer->terms()[0];
    const torch::Tensor ref = dropout_reference(layer, x, torch::ones_like(x), t.A.detach(), t.B.detach());
    EXPECT_TRUE(torch::allclose(y, ref, 1e-12, 1e-12));
}

TEST(LoRADropout, EvalModeIgnoresTheProbability) {
    LoRALinear with = dropout_linear(0.5), without = dropout_linear(0.0);
    with->eval();
    without->eval();
    const torch::Tensor x = torch::randn({5, 12}, torch::kFloat64);
    torch::Tensor y;
    const double after_forward = next_draw_after_seed([&] { y = with->forward(x); });
    EXPECT_EQ(after_forward, next_draw_after_seed([] {})) << "eval mode must not advance the generator";
    EXPECT_TRUE(torch::equal(y, without->forward(x))) << "bit-identical to the layer without dropout";
}

TEST(LoRADropout, TrainingOutputAndGradientsMatchTheMaskedReference) {
    for (TermPath path : {TermPath::automatic, TermPath::folded, TermPath::factored}) {
        DropoutTermPathScope scope(path);
        LoRALinear layer = dropout_linear(0.3);
        const torch::Tensor x = torch::randn({2, 5, 12}, torch::kFloat64);
        SCOPED_TRACE(static_cast<int>(path));
        expect_dropout_matches_reference(layer, x, 0.3);
    }
}

TEST(LoRADropout, ConvModeOutputAndGradientsMatchTheMaskedReference) {
    for (TermPath path : {TermPath::folded, TermPath::factored}) {
        DropoutTermPathScope scope(path);
        LoRALinear layer = dropout_conv(0.25);
        const torch::Tensor x = torch::randn({2, 4, 7, 7}, torch::kFloat64);
        SCOPED_TRACE(static_cast<int>(path));
        expect_dropout_matches_reference(layer, x, 0.25);
    }
}

TEST(LoRADropout, EachDroppingTermDrawsItsOwnMask) {
    torch::manual_seed(8);
    LoRALinear layer(LoRALinearOptions(12, 18));
    layer->to(torch::kFloat64);
    layer->add_term(dropout_test_term(2, 12, 6, 0, 1.0, 0.5));
    layer->add_term(dropout_test_term(2, 12, 6, 12, 1.0, 0.5));
    layer->train();
    const torch::Tensor x = torch::randn({4, 12}, torch::kFloat64);
    torch::manual_seed(kDropoutSeed);
    const torch::Tensor y = layer->forward(x).detach();
    torch::manual_seed(kDropoutSeed);
    const torch::Tensor m0 = torch::empty_like(x).bernoulli_(0.5).div_(0.5);
    const torch::Tensor m1 = torch::empty_like(x).bernoulli_(0.5).div_(0.5);
    ASSERT_FALSE(torch::equal(m0, m1));
    torch::NoGradGuard no_grad;
    const auto& t = layer->terms();
    const torch::Tensor base = torch::nn::functional::linear(x, layer->weight, layer->bias);
    const torch::Tensor q = (x * m0).matmul(t[0].A.t()).matmul(t[0].B.t());
    const torch::Tensor v = (x * m1).matmul(t[1].A.t()).matmul(t[1].B.t());
    EXPECT_TRUE(torch::allclose(y.slice(1, 0, 6), base.slice(1, 0, 6) + q, 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(y.slice(1, 6, 12), base.slice(1, 6, 12), 1e-12, 1e-12));
    EXPECT_TRUE(torch::allclose(y.slice(1, 12, 18), base.slice(1, 12, 18) + v, 1e-12, 1e-12));
}

TEST(LoRADropout, MeanOverDrawsIsTheOutputWithoutDropout) {
    // PEFT's layer cannot be matched draw for draw (another generator); what both must satisfy is
    // E[dropout(x)] = x, so E[y] = the p = 0 output. Each element's mean over n draws lies within 5
    // standard errors of it.
    LoRALinear layer = dropout_linear(0.4);
    layer->train();
    const torch::Tensor x = torch::randn({3, 12}, torch::kFloat64);
    torch::NoGradGuard no_grad;
    torch::manual_seed(kDropoutSeed);
    constexpr int kDraws = 4000;
    std::vector<torch::Tensor> ys;
    for (int i = 0; i < kDraws; ++i) ys.push_back(layer->forward(x));
    const torch::Tensor all = torch::stack(ys);
    const torch::Tensor mean = all.mean(0), std_error = all.std(0) / std::sqrt(static_cast<double>(kDraws));
    layer->eval();
    const torch::Tensor expected = layer->forward(x);
    EXPECT_TRUE(((mean - expected).abs() <= 5.0 * std_error + 1e-12).all().item<bool>())
        << ((mean - expected).abs() / (std_error + 1e-12)).max().item<double>() << " standard errors";
    EXPECT_GT(std_error.slice(1, 6, 12).min().item<double>(), 0.0) << "the adapted rows vary between draws";
    EXPECT_EQ(std_error.slice(1, 0, 6).max().item<double>(), 0.0) << "the other rows do not";
}

TEST(LoRADropout, FrozenTermsNeverDrop) {
    LoRALinear with = dropout_linear(0.0), without = dropout_linear(0.0);
    for (LoRALinear* l : {&with, &without}) {
        torch::manual_seed(9);
        (*l)->add_term(dropout_test_term(2, 12, 18, 0, 1.0, l == &with ? 0.5 : 0.0, /*trainable*/ false));
        (*l)->train();
    }
    const torch::Tensor x = torch::randn({4, 12}, torch::kFloat64);
    EXPECT_TRUE(torch::equal(with->forward(x), without->forward(x)));
}

TEST(LoRADropout, ProbabilityOutsideZeroToOneIsRefused) {
    LoRALinear layer(LoRALinearOptions(4, 4));
    EXPECT_THROW(layer->add_term(dropout_test_term(1, 4, 4, 0, 1.0, 1.0)), c10::Error);
    EXPECT_THROW(layer->add_term(dropout_test_term(1, 4, 4, 0, 1.0, -0.1)), c10::Error);
}

TEST(LoRADropout, MergedLoRAReadsTheOptionAndSetsItOnItsTerms) {
    using lorica::testing::method_bench_config;
    const auto default_options =
        MergedLoRAOptions::from_config(method_bench_config("merged-lora", 4, {"qkv"}, {}), "merged-lora");
    EXPECT_EQ(default_options.dropout, 0.0);
    const OptionSpec* spec = MergedLoRAOptions::schema("merged-lora").find("dropout");
    ASSERT_NE(spec, nullptr);
    EXPECT_EQ(spec->default_value, 0.0);
    EXPECT_EQ(spec->paper_value, 0.1);

    lorica::testing::MethodBench b(method_bench_config("merged-lora", 4, {"qkv"}, {{"dropout", 0.1}}), 21, 3);
    MergedLoRA m(b.config, "merged-lora");
    m.begin_run(*b.ctx);
    b.start_task(m, 0);
    ASSERT_FALSE(m.sites().empty());
    for (const auto& site : m.sites()) EXPECT_EQ(site.layer->terms().at(0).dropout, 0.1);

    for (double p : {1.0, -0.5}) {
        try {
            MergedLoRAOptions::from_config(method_bench_config("merged-lora", 4, {"qkv"}, {{"dropout", p}}),
                                           "merged-lora");
            ADD_FAILURE() << "dropout " << p << " accepted";
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), "method.options.dropout");
        }
    }
    try {
        MergedLoRAOptions::from_config(method_bench_config("merged-lora-ft", 4, {"qkv"}, {{"dropout", 0.1}}),
                                       "merged-lora-ft");
        ADD_FAILURE() << "update = full with dropout accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "method.options.dropout");
    }
}

TEST(LoRADropout, SequentialLoRAReadsTheOptionAndSetsItOnItsPair) {
    using lorica::testing::method_bench_config;
    EXPECT_EQ(SequentialLoRAOptions::from_config(method_bench_config("sequential-lora", 4, {"qkv"}, {})).dropout, 0.0);
    lorica::testing::MethodBench b(method_bench_config("sequential-lora", 4, {"qkv"}, {{"dropout", 0.2}}), 21, 3);
    SequentialLoRA m(b.config);
    m.begin_run(*b.ctx);
    int terms = 0;
    for (auto& [name, layer] : b.model->lora_layers())
        for (const auto& t : layer->terms()) {
            EXPECT_EQ(t.dropout, 0.2) << name;
            ++terms;
        }
    EXPECT_GT(terms, 0);
    try {
        SequentialLoRAOptions::from_config(method_bench_config("sequential-lora", 4, {"qkv"}, {{"dropout", 1.0}}));
        ADD_FAILURE() << "dropout 1 accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "method.options.dropout");
    }
}
