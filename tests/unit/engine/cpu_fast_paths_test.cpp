// The CPU fast paths of the model and the paths they replace compute the same function and gradients
// (≤ 1e-5 relative, float32): dense_linear on every choice of library per product (given kernel
// tables, kernel_choice.h) against at::linear (with and without grad, GELU fused), LoRALinear's
// folded trainable terms against the factored side branches, the explicit attention kernel against
// at::scaled_dot_product_attention, and a whole default ViT step with every fast path against the
// same model on the previous paths (ATen linear, factored terms, fused attention), for sequential
// LoRA, SD-LoRA-like magnitudes and full fine-tuning, on the fallback rule and on two mixed kernel
// tables; and a short two-task experiment (foundation step included) records the same losses (≤ 1e-5 relative) and
// the same evaluation counts on both.
#include <optional>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/support/temp_dir.h"
#include "tests/support/two_task_experiment.h"
#include "engine/config/experiment_config.h"
#include "engine/model/adapter_targets.h"
#include "engine/model/dense_linear.h"
#include "engine/model/kernel_choice.h"
#include "engine/model/lora_linear.h"
#include "engine/model/model_paths.h"
#include "engine/model/vit.h"
#include "engine/services/experiment_runner.h"
#include "engine/vocabulary/event_listener.h"

using namespace lorica;

namespace {

// Sets the process-wide paths for one scope and restores the automatic choice after it.
struct PathsScope {
    explicit PathsScope(ModelPaths paths) { model_paths() = paths; }
    ~PathsScope() { model_paths() = ModelPaths{}; }
};

// max |a − b| / max(max |b|, 1e-3): relative to the reference's scale.
double rel_diff(const torch::Tensor& a, const torch::Tensor& b) {
    const double scale = std::max(b.abs().max().item<double>(), 1e-3);
    return (a - b).abs().max().item<double>() / scale;
}

// A given kernel table for the products of `layers` ({in, out}) at `rows` rows that picks oneDNN where
// bit (role index + 4·layer index) of `mask` is set (roles: forward, forward_gelu, grad_input, grad_weight).
KernelTable mixed_kernel_table(int64_t rows, const std::vector<std::pair<int64_t, int64_t>>& layers, uint64_t mask) {
    KernelTable table;
    for (size_t l = 0; l < layers.size(); ++l)
        for (int r = 0; r < 4; ++r)
            table.set(ProductShape{static_cast<ProductRole>(r), rows, layers[l].first, layers[l].second},
                      (mask >> (r + 4 * l)) & 1 ? GemmKernel::onednn : GemmKernel::aten);
    return table;
}

// Gives `table` to dense_linear for one scope; after it, the empty given table every test of this binary
// runs on (tests/unit/engine/kernel_choice_test.cpp).
struct KernelTableScope {
    explicit KernelTableScope(KernelTable table) { use_given_kernel_table(std::move(table)); }
    ~KernelTableScope() { use_given_kernel_table({}); }
};

// Every choice of library for forward, grad_input, grad_weight and the fused forward (given tables
// with each of the 16 combinations, and the fixed oneDNN backend) against at::linear.
TEST(DenseLinear, EveryKernelChoiceMatchesAtenForwardAndGradients) {
    torch::manual_seed(0);
    for (auto [in, out] :
         std::vector<std::pair<int64_t, int64_t>>{{64, 192}, {64, 64}, {64, 256}, {256, 64}, {64, 10}}) {
        auto x = torch::randn({8, 17, in});
        auto w = (torch::randn({out, in}) * 0.1).requires_grad_(true);
        auto b = (torch::randn({out}) * 0.1).requires_grad_(true);
        auto g = torch::randn({8, 17, out});
        auto run = [&](DenseBackend backend) {
            auto xr = x.clone().requires_grad_(true);
            auto y = dense_linear(xr, w, b, DenseActivation::none, backend);
            auto grads = torch::autograd::grad({y}, {xr, w, b}, {g});
            torch::NoGradGuard no_grad;  // fused GELU (erf) and no bias
            return std::vector<torch::Tensor>{y,
                                              grads[0],
                                              grads[1],
                                              grads[2],
                                              dense_linear(x, w, b, DenseActivation::gelu, backend),
                                              dense_linear(x, w, {}, DenseActivation::none, backend)};
        };
        const auto reference = run(DenseBackend::aten);
        for (int mask = -1; mask < 16; ++mask) {
            KernelTableScope table(mixed_kernel_table(8 * 17, {{in, out}}, mask < 0 ? 0 : mask));
            const auto chosen = run(mask < 0 ? DenseBackend::onednn : DenseBackend::automatic);
            for (size_t k = 0; k < chosen.size(); ++k)
                EXPECT_LT(rel_diff(chosen[k], reference[k]), 1e-5) << in << "→" << out << " mask " << mask << " " << k;
            if (mask >= 0 && onednn_linear_available())  // the table is what dense_linear follows
                for (int r = 0; r < 4; ++r)
                    EXPECT_EQ(dense_linear_kernel(x, w, DenseBackend::automatic, static_cast<ProductRole>(r)),
                              (mask >> r) & 1 ? GemmKernel::onednn : GemmKernel::aten);
        }
    }
    // The fixed oneDNN backend is oneDNN where LibTorch has it, so the comparison is not ATen with itself.
    EXPECT_EQ(dense_linear_kernel(torch::zeros({2, 4}), torch::zeros({3, 4}), DenseBackend::onednn,
                                  ProductRole::forward) == GemmKernel::onednn,
              at::hasMKLDNN());
    EXPECT_FALSE(
        dense_linear_onednn_eligible(torch::zeros({2, 4}, torch::kFloat64), torch::zeros({3, 4}, torch::kFloat64)));
    EXPECT_EQ(dense_linear_kernel(torch::zeros({2, 4}), torch::zeros({3, 4}), DenseBackend::aten, ProductRole::forward),
              GemmKernel::aten);
}

// Output and gradients (x, W, A, B, magnitude) of a qkv-like layer with q and v terms on both term paths.
TEST(LoRALinearTermPath, FoldedEqualsFactored) {
    torch::manual_seed(1);
    const int64_t in = 64, out = 192;
    auto x0 = torch::randn({4, 17, in});
    auto g = torch::randn({4, 17, out});
    std::vector<torch::Tensor> results[2];
    for (int i = 0; i < 2; ++i) {
        torch::manual_seed(2);
        LoRALinear layer(LoRALinearOptions(in, out));
        PathsScope paths(
            {DenseBackend::automatic, i == 0 ? TermPath::folded : TermPath::factored, AttentionKernel::automatic});
        auto magnitude = torch::tensor(1.3).requires_grad_(true);
        layer->add_term(LowRankTerm::lora(8, in, 64, 0, 0.7));
        layer->add_term(LowRankTerm::lora(8, in, 64, 128, 0.7));
        LowRankTerm &q = layer->terms()[0], &v = layer->terms()[1];  // after both adds: add_term may reallocate
        {
            torch::NoGradGuard no_grad;
            q.B.normal_(0, 0.1);
            v.B.normal_(0, 0.1);
        }
        v.magnitude = magnitude;
        auto x = x0.clone().requires_grad_(true);
        auto y = layer(x);
        auto grads = torch::autograd::grad({y}, {x, layer->weight, q.A, q.B, v.A, v.B, magnitude}, {g});
        results[i] = {y};
        results[i].insert(results[i].end(), grads.begin(), grads.end());
        EXPECT_EQ(folds_trainable_terms(*layer), i == 0);
    }
    for (size_t k = 0; k < results[0].size(); ++k)
        EXPECT_LT(rel_diff(results[0][k], results[1][k]), 1e-5) << "tensor " << k;
}

TEST(LoRALinearTermPath, AutomaticRule) {
    // Tiny ViT qkv, rank 8 on q and v: folded; ViT-B/16 qkv, rank 10 on q and v: factored; no grad: folded.
    for (auto [in, rank, expect] : std::vector<std::tuple<int64_t, int64_t, bool>>{{64, 8, true}, {768, 10, false}}) {
        LoRALinear layer(LoRALinearOptions(in, 3 * in));
        layer->weight.set_requires_grad(false);
        layer->add_term(LowRankTerm::lora(rank, in, in, 0, 1.0));
        layer->add_term(LowRankTerm::lora(rank, in, in, 2 * in, 1.0));
        EXPECT_EQ(folds_trainable_terms(*layer), expect) << in;
        torch::NoGradGuard no_grad;
        EXPECT_TRUE(folds_trainable_terms(*layer));
    }
}

TEST(AttentionKernel, ExplicitEqualsFused) {
    torch::manual_seed(3);
    Attention attn(64, 4);
    auto x0 = torch::randn({6, 17, 64});
    auto g = torch::randn({6, 17, 64});
    std::vector<torch::Tensor> results[2];
    for (int i = 0; i < 2; ++i) {
        PathsScope paths({DenseBackend::automatic, TermPath::automatic,
                          i == 0 ? AttentionKernel::explicit_ : AttentionKernel::fused});
        auto x = x0.clone().requires_grad_(true);
        auto y = attn(x);
        auto grads = torch::autograd::grad({y}, {x, attn->qkv->weight, attn->proj->weight}, {g});
        results[i] = {y, grads[0], grads[1], grads[2]};
    }
    for (size_t k = 0; k < results[0].size(); ++k)
        EXPECT_LT(rel_diff(results[0][k], results[1][k]), 1e-5) << "tensor " << k;
    EXPECT_TRUE(attention_uses_explicit_kernel(17, 16));    // tiny ViT: 17 tokens × head_dim 16
    EXPECT_FALSE(attention_uses_explicit_kernel(197, 64));  // ViT-B/16: 197 tokens × 64
}

enum class StepSetup { lora, magnitudes, full };

// Loss and every trainable gradient of one step of the default tiny ViT, on the fast or the previous paths.
// `table_mask` (fast paths only): a given kernel table for the ViT's four layer shapes (mixed_kernel_table).
std::vector<torch::Tensor> vit_step(StepSetup setup, bool fast_paths, std::optional<uint64_t> table_mask = {}) {
    torch::manual_seed(4);
    VisionTransformer vit(ViTOptions().head_classes(10));
    std::vector<torch::Tensor> trainable;
    if (setup == StepSetup::full) {
        trainable = vit->parameters();
    } else {
        for (auto& p : vit->parameters()) p.set_requires_grad(false);
        auto old_magnitude = torch::tensor(0.8).requires_grad_(true);
        auto magnitude = torch::tensor(1.1).requires_grad_(true);
        if (setup == StepSetup::magnitudes) trainable = {old_magnitude, magnitude};
        for (auto& site : resolve_adapter_sites(vit, {"q", "v"})) {
            if (setup == StepSetup::magnitudes) {  // a finished direction (frozen, magnitude) as SD-LoRA leaves it
                LowRankTerm old = LowRankTerm::lora(8, site.in, site.rows, site.row_offset, 0.5);
                old.A = old.A.detach();
                old.B = torch::randn_like(old.B) * 0.1;
                old.magnitude = old_magnitude;
                site.layer->add_term(old);
            }
            auto& t = site.layer->add_term(LowRankTerm::lora(8, site.in, site.rows, site.row_offset, 1.0));
            torch::NoGradGuard no_grad;
            t.B.normal_(0, 0.05);
            if (setup == StepSetup::magnitudes) t.magnitude = magnitude;
            trainable.insert(trainable.end(), {t.A, t.B});
        }
    }
    vit->head->weight.set_requires_grad(true);
    if (setup != StepSetup::full) trainable.push_back(vit->head->weight);
    PathsScope paths(fast_paths ? ModelPaths{}
                                : ModelPaths{DenseBackend::aten, TermPath::factored, AttentionKernel::fused});
    KernelTableScope table(table_mask
                               ? mixed_kernel_table(16 * 17, {{64, 192}, {64, 64}, {64, 256}, {256, 64}}, *table_mask)
                               : KernelTable{});
    torch::manual_seed(5);
    auto x = torch::randn({16, 1, 28, 28});
    auto y = torch::randint(0, 10, {16});
    auto loss = torch::nn::functional::cross_entropy(vit->forward(x), y);
    std::vector<torch::Tensor> out{loss.detach()};
    for (auto& gr : torch::autograd::grad({loss}, trainable)) out.push_back(gr);
    torch::NoGradGuard no_grad;  // and the evaluation forward
    out.push_back(vit->forward(x));
    return out;
}

TEST(ViTFastPaths, StepEqualsPreviousPaths) {
    // The fallback rule (the empty given table), and two chosen tables that mix the libraries per layer
    // and product, each the other's complement.
    for (std::optional<uint64_t> mask :
         {std::optional<uint64_t>{}, std::optional<uint64_t>{0xA5C3}, std::optional<uint64_t>{0x5A3C}}) {
        for (StepSetup setup : {StepSetup::lora, StepSetup::magnitudes, StepSetup::full}) {
            auto fast = vit_step(setup, true, mask), previous = vit_step(setup, false);
            ASSERT_EQ(fast.size(), previous.size());
            EXPECT_LT(std::abs(fast[0].item<double>() - previous[0].item<double>()), 1e-5);
            for (size_t k = 1; k < fast.size(); ++k)
                EXPECT_LT(rel_diff(fast[k], previous[k]), 1e-5)
                    << "setup " << static_cast<int>(setup) << " tensor " << k << " mask " << mask.value_or(0);
        }
    }
}

// Every step's loss and every evaluation row of a run (foundation losses first).
struct RunRecord final : public EventListener {
    void on_event(const Event& event) override {
        if (const auto* f = std::get_if<FoundationProgress>(&event)) losses.push_back(f->loss);
        if (const auto* m = std::get_if<StepMetrics>(&event)) losses.push_back(m->loss);
        if (const auto* e = std::get_if<EvaluationDone>(&event))
            for (const auto& r : e->rows) correct.push_back(r.correct);
    }
    std::vector<double> losses;
    std::vector<int64_t> correct;
};

RunRecord run_two_tasks(const std::string& method, const ModelPaths& paths) {
    PathsScope scope(paths);
    lorica::testing::TempDir dir("fast-paths-run");
    // The fp32 digest test's experiment: foundation 3 classes, 2 tasks × 2 classes, 24 stream steps.
    const nlohmann::json doc = lorica::testing::two_task_experiment_config(dir.path, method, "fast-paths");
    RunRecord record;
    CancelToken cancel;
    EXPECT_EQ(run_experiment(parse_experiment_config(doc), record, cancel), RunStatus::finished);
    return record;
}

TEST(ViTFastPaths, TwoTaskRunRecordsTheSameLossesAndCounts) {
    for (const std::string method : {"sequential-lora", "sd-lora"}) {
        const RunRecord fast = run_two_tasks(method, ModelPaths{});
        const RunRecord previous =
            run_two_tasks(method, ModelPaths{DenseBackend::aten, TermPath::factored, AttentionKernel::fused});
        ASSERT_EQ(fast.losses.size(), previous.losses.size()) << method;
        ASSERT_GT(fast.losses.size(), 24u) << method;
        double worst = 0;
        for (size_t i = 0; i < fast.losses.size(); ++i)
            worst = std::max(worst, std::abs(fast.losses[i] - previous.losses[i]) / std::abs(previous.losses[i]));
        EXPECT_LT(worst, 1e-5) << method;
        EXPECT_EQ(fast.correct, previous.correct) << method;
        std::printf("%s: %zu losses, max relative difference %.2e; %zu evaluation rows\n", method.c_str(),
                    fast.losses.size(), worst, fast.correct.size());
    }
}

}  // namespace
