// Merge interpolation: the weights evaluated at each λ are (1 − λ) W_1 + λ W_2 of the merged layer
// weights, the endpoints reproduce the two snapshotted models, the model is restored bit for bit,
// and sequential LoRA emits the curve after task 1.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/model/vit.h"
#include "engine/methods/baselines.h"
#include "engine/methods/merge_interpolation.h"
#include "engine/vocabulary/analysis_keys.h"

using namespace lorica;

namespace {

struct Fixture {
    ExperimentConfig config;
    VisionTransformer model{nullptr};
    TaskHeads heads{nullptr};
    std::unique_ptr<MethodContext> ctx;
    std::vector<Event> events;

    Fixture() {
        torch::manual_seed(11);
        model = VisionTransformer(ViTOptions().dim(16).depth(2).heads(2).head_classes(3));
        model->eval();
        heads = TaskHeads(16);
        ctx = std::make_unique<MethodContext>(
            MethodContext{model, heads, config, 1, 3, 0, torch::kCPU, 0, {}, {}, {}, {}});
        ctx->emit = [this](const Event& e) { events.push_back(e); };
    }

    torch::Tensor features(const torch::Tensor& x) {
        torch::NoGradGuard g;
        return model->features(x);
    }
};

void randomise_factors(VisionTransformer& model) {
    torch::NoGradGuard g;
    for (auto& [name, layer] : model->lora_layers())
        for (auto& t : layer->terms()) {
            t.A.copy_(torch::randn_like(t.A) * 0.2);
            t.B.copy_(torch::randn_like(t.B) * 0.2);
        }
}

}  // namespace

TEST(MergeInterpolation, EvaluatesTheInterpolatedWeightsAndRestoresTheModel) {
    Fixture f;
    for (auto& site : resolve_adapter_sites(f.model, {"q", "v"}))
        site.layer->add_term(LowRankTerm::lora(3, site.in, site.rows, site.row_offset, 1.0, "lora"));
    auto x = torch::randn({4, 1, 28, 28});
    randomise_factors(f.model);
    WeightSnapshot w1 = snapshot_merged_weights(f.model);
    auto out1 = f.features(x);
    randomise_factors(f.model);
    WeightSnapshot w2 = snapshot_merged_weights(f.model);
    auto out2 = f.features(x);
    ASSERT_EQ(w1.merged.size(), 2u);  // the two qkv layers

    // The current model differs from both endpoints.
    randomise_factors(f.model);
    auto current = f.features(x);
    std::vector<torch::Tensor> weights_before;
    for (auto& [name, layer] : f.model->lora_layers()) weights_before.push_back(layer->weight.detach().clone());

    std::vector<double> lambdas = {0.0, 0.5, 1.0};
    int call = 0;
    f.ctx->evaluate_tasks = [&](const std::vector<int>& tasks) {
        EXPECT_EQ(tasks, (std::vector<int>{0, 1}));
        const double lambda = lambdas[call];
        for (auto& [name, layer] : f.model->lora_layers()) {
            EXPECT_TRUE(layer->terms().empty()) << name << ": terms must be out while W(λ) runs";
            auto it1 = w1.merged.find(name);
            if (it1 == w1.merged.end()) continue;
            auto expected = it1->second * (1 - lambda) + w2.merged.at(name) * lambda;
            EXPECT_TRUE(torch::allclose(layer->weight, expected, 1e-6, 1e-7)) << name << " λ = " << lambda;
        }
        auto out = f.features(x);
        if (lambda == 0.0) EXPECT_LE((out - out1).abs().max().item<double>(), 1e-5);
        if (lambda == 1.0) EXPECT_LE((out - out2).abs().max().item<double>(), 1e-5);
        ++call;
        std::vector<EvalRow> rows;
        for (int t : tasks) {
            rows.push_back({1, t, 0, EvalPhase::end_of_task, HeadMode::task_il, 0, 10});  // ignored: class-IL wins
            rows.push_back({1, t, 0, EvalPhase::end_of_task, HeadMode::class_il, 3 * call + t, 10});
        }
        return rows;
    };
    auto points = run_merge_interpolation(*f.ctx, w1, w2, MergeInterpolationOptions{3, {0, 1}});
    EXPECT_EQ(call, 3);
    ASSERT_EQ(points.size(), 6u);
    EXPECT_EQ(points[3].series, SeriesKey::of_task(1));
    EXPECT_DOUBLE_EQ(points[3].x, 0.5);
    EXPECT_DOUBLE_EQ(points[3].y, 70.0);  // (3·2 + 1) / 10
    ASSERT_EQ(f.events.size(), 1u);
    EXPECT_EQ(std::get<AnalysisDone>(f.events[0]).points.size(), 6u);
    EXPECT_EQ(std::get<AnalysisDone>(f.events[0]).points[0].analysis, AnalysisKey::merge_interpolation);

    size_t i = 0;
    for (auto& [name, layer] : f.model->lora_layers())
        EXPECT_TRUE(torch::equal(layer->weight, weights_before[i++])) << name;
    EXPECT_TRUE(torch::equal(f.features(x), current)) << "weights and terms restored exactly";
}

TEST(MergeInterpolation, SequentialLoRAEmitsTheCurveAfterTaskOne) {
    Fixture f;
    f.config.method.options = {{"interpolation_points", 4}};
    SequentialLoRA method(f.config);
    f.ctx->evaluate_tasks = [](const std::vector<int>& tasks) {
        std::vector<EvalRow> rows;
        for (int t : tasks) rows.push_back({1, t, 0, EvalPhase::end_of_task, HeadMode::class_il, 5, 10});
        return rows;
    };
    method.begin_run(*f.ctx);
    for (int t = 0; t < 3; ++t) {
        f.ctx->task = t;
        method.begin_task(*f.ctx);
        randomise_factors(f.model);
        method.end_task(*f.ctx);
        EXPECT_EQ(f.events.size(), t == 0 ? 0u : 1u) << "only after task 1";
    }
    const auto& points = std::get<AnalysisDone>(f.events[0]).points;
    ASSERT_EQ(points.size(), 8u);
    EXPECT_NEAR(points[2].x, 1.0 / 3.0, 1e-12);
    EXPECT_DOUBLE_EQ(points[2].y, 50.0);
    ExperimentConfig bad;
    bad.method.options = {{"interpolation_point", 4}};
    EXPECT_THROW(SequentialLoRA{bad}, ConfigError);
}
