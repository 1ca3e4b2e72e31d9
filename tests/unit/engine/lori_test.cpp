// LoRI: frozen random A from a recorded seed, mask calibration, LoRI-S keeping off-mask entries
// exactly (0 for a fresh B, the previous task's values when continuing) through AdamW steps, the
// per-tensor clipping, the trainable counts, the merge analysis (adapters swapped, weights restored
// exactly) and a short run through the trainer with its two passes per task.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <set>
#include <unistd.h>

#include "tests/support/method_bench.h"
#include "engine/methods/lori.h"
#include "engine/methods/method_registry.h"
#include "engine/vocabulary/analysis_keys.h"
#include "engine/vocabulary/event_listener.h"
#include "engine/services/experiment_runner.h"
#include "engine/train/optimizer_factory.h"

using namespace lorica;

namespace {

constexpr int64_t kDim = lorica::testing::kMethodBenchDim;

// Rank 4 on q and v (tests/support/method_bench.h).
ExperimentConfig lori_config(const std::string& name, nlohmann::json options = nlohmann::json::object()) {
    return lorica::testing::method_bench_config(name, 4, {"q", "v"}, std::move(options));
}

// A 2-block ViT of width 16 on 8×8 images, with its stream heads and a method context.
struct Bench : lorica::testing::MethodBench {
    explicit Bench(ExperimentConfig c) : MethodBench(std::move(c), 11, 2) {}
};

double state_value(const std::vector<MethodState>& states, StateKey key, size_t index = 0) {
    for (const auto& s : states)
        if (s.key == key) return s.values.at(index);
    ADD_FAILURE() << "no state " << name_of(key);
    return -1;
}

}  // namespace

TEST(LoRIMask, HandComputedGlobalPerLayerPerMatrix) {
    std::vector<torch::Tensor> scores = {torch::tensor({1.0, 2.0, 3.0, 4.0}), torch::tensor({10.0, 20.0}),
                                         torch::tensor({5.0, 0.5})};
    std::vector<int> layer = {0, 0, 1};
    auto as_vector = [](const torch::Tensor& m) {
        std::vector<int> v;
        for (int64_t i = 0; i < m.numel(); ++i) v.push_back(m[i].item<bool>());
        return v;
    };
    // global, sparsity 0.5: keep round(0.5 · 8) = 4 of {1,2,3,4,10,20,5,0.5} → 20, 10, 5, 4
    auto g = calibrate_masks(scores, layer, 0.5, MaskGranularity::global);
    EXPECT_EQ(as_vector(g[0]), (std::vector<int>{0, 0, 0, 1}));
    EXPECT_EQ(as_vector(g[1]), (std::vector<int>{1, 1}));
    EXPECT_EQ(as_vector(g[2]), (std::vector<int>{1, 0}));
    // per layer: layer 0 keeps 3 of 6 (20, 10, 4), layer 1 keeps 1 of 2 (5)
    auto l = calibrate_masks(scores, layer, 0.5, MaskGranularity::per_layer);
    EXPECT_EQ(as_vector(l[0]), (std::vector<int>{0, 0, 0, 1}));
    EXPECT_EQ(as_vector(l[2]), (std::vector<int>{1, 0}));
    // per matrix: 2 of 4, 1 of 2, 1 of 2
    auto p = calibrate_masks(scores, layer, 0.5, MaskGranularity::per_matrix);
    EXPECT_EQ(as_vector(p[0]), (std::vector<int>{0, 0, 1, 1}));
    EXPECT_EQ(as_vector(p[1]), (std::vector<int>{0, 1}));
    EXPECT_EQ(mask_count(p), 4);
    // Jaccard of global vs per-matrix: ∩ = {4, 20, 5} = 3, ∪ = {3, 4, 10, 20, 5} = 5
    EXPECT_DOUBLE_EQ(mask_jaccard(g, p), 3.0 / 5.0);
    EXPECT_EQ(mask_keep_count(3072, 0.9), 307);
    EXPECT_THROW(calibrate_masks(scores, layer, 1.5, MaskGranularity::global), std::invalid_argument);
}

TEST(LoRI, SubspaceOverlapBounds) {
    torch::manual_seed(2);
    auto a = torch::randn({4, 64});
    EXPECT_NEAR(subspace_overlap(a, a), 1.0, 1e-9);
    EXPECT_NEAR(subspace_overlap(a, torch::randn({4, 4}).mm(a)), 1.0, 1e-9) << "same row space";
    auto e = torch::eye(8);
    EXPECT_NEAR(subspace_overlap(e.slice(0, 0, 4), e.slice(0, 4, 8)), 0.0, 1e-12) << "orthogonal";
    // random 4-dim subspaces of R^64: about 4/64
    EXPECT_LT(subspace_overlap(lori_random_a(1, 0, 4, 64), lori_random_a(2, 0, 4, 64)), 0.25);
}

TEST(LoRI, FrozenRandomAFromARecordedSeed) {
    Bench b(lori_config("lori-d"));
    LoRI m(b.config, "lori-d");
    m.begin_run(*b.ctx);
    b.start_task(m, 0);
    ASSERT_EQ(m.sites().size(), 4u) << "q and v of 2 blocks";
    ASSERT_EQ(m.a_seeds().size(), 1u);
    EXPECT_LT(m.a_seeds()[0], 1ull << 32);
    std::vector<torch::Tensor> a_before;
    for (size_t i = 0; i < m.A().size(); ++i) {
        EXPECT_FALSE(m.A()[i].requires_grad());
        EXPECT_TRUE(torch::equal(m.A()[i], lori_random_a(m.a_seeds()[0], static_cast<int64_t>(i), 4, kDim)))
            << "A is reproducible from the recorded seed";
        a_before.push_back(m.A()[i].clone());
    }
    b.train(m, 3);
    for (size_t i = 0; i < m.A().size(); ++i) EXPECT_TRUE(torch::equal(m.A()[i], a_before[i])) << "A is frozen";
    EXPECT_GT(m.B()[0].abs().max().item<double>(), 0.0) << "B trains";
    m.end_task(*b.ctx);
    auto states = m.state(*b.ctx);
    EXPECT_EQ(m.describe(*b.ctx)["trainable_parameters"].get<int64_t>(), 4 * 16 * 4) << "LoRI-D trains |B|";
    EXPECT_EQ(state_value(states, StateKey::lori_a_seed), static_cast<double>(m.a_seeds()[0]));
    EXPECT_EQ(m.describe(*b.ctx)["a_seeds"][0].get<uint64_t>(), m.a_seeds()[0]);
    // continual: the next task keeps the same A (shared seed) and continues B
    auto b_after = m.B()[0].clone();
    b.start_task(m, 1);
    EXPECT_EQ(m.a_seeds()[1], m.a_seeds()[0]);
    EXPECT_TRUE(torch::equal(m.B()[0], b_after));
    // per-task seeds only make sense with merging
    EXPECT_THROW(LoRI(lori_config("lori-d", {{"a_seed_mode", "per-task"}}), "lori-d"), ConfigError);
    try {
        LoRI(lori_config("lori-s", {{"mask_granularity", "per-block"}}), "lori-s");
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "method.options.mask_granularity");
        EXPECT_NE(std::string(e.what()).find("per-matrix"), std::string::npos);
    }
}

TEST(LoRI, SparsePassKeepsOffMaskEntriesExactlyZero) {
    Bench b(lori_config("lori-s"));
    LoRI m(b.config, "lori-s");
    ASSERT_EQ(m.passes_per_task(), 2);
    m.begin_run(*b.ctx);
    b.start_task(m, 0);
    m.begin_pass(*b.ctx, 0);
    b.train(m, 4);  // the dense calibration pass
    m.begin_pass(*b.ctx, 1);
    auto groups = m.parameter_groups(*b.ctx);
    EXPECT_DOUBLE_EQ(groups[0].lr, 10 * b.config.train.optimizer.lr);
    EXPECT_EQ(groups[0].weight_decay, 0.0);
    int64_t b_size = 0;
    for (size_t i = 0; i < m.B().size(); ++i) {
        EXPECT_EQ(m.B()[i].abs().max().item<double>(), 0.0) << "LoRI-S starts from a fresh B = 0";
        b_size += m.B()[i].numel();
    }
    ASSERT_EQ(b_size, 256);
    EXPECT_EQ(mask_count(m.masks()), 26) << "round(0.1 · 256), one global threshold";
    b.train(m, 6);  // AdamW, several steps
    double on_mask = 0.0;
    for (size_t i = 0; i < m.B().size(); ++i) {
        EXPECT_EQ(m.B()[i].masked_select(m.masks()[i].logical_not()).abs().max().item<double>(), 0.0)
            << "off-mask entries stay exactly 0";
        on_mask = std::max(on_mask, (m.B()[i] * m.masks()[i]).abs().max().item<double>());
    }
    EXPECT_GT(on_mask, 0.0);
    m.end_task(*b.ctx);
    EXPECT_EQ(m.describe(*b.ctx)["trainable_parameters"].get<int64_t>(), 26);
}

TEST(LoRI, ContinualSparseKeepsOldEntriesOutsideTheNewMask) {
    Bench b(lori_config("lori-s", {{"sparsity", 0.75}}));
    LoRI m(b.config, "lori-s");
    m.begin_run(*b.ctx);
    for (int t = 0; t < 2; ++t) {
        std::vector<torch::Tensor> previous;
        for (const auto& x : m.B()) previous.push_back(x.detach().clone());
        b.start_task(m, t);
        m.begin_pass(*b.ctx, 0);
        b.train(m, 3);
        m.begin_pass(*b.ctx, 1);
        for (size_t i = 0; i < m.B().size(); ++i)
            EXPECT_TRUE(torch::equal(m.B()[i], previous[i])) << "pass 1 restarts from the previous task's B";
        b.train(m, 4);
        bool changed = false;
        for (size_t i = 0; i < m.B().size(); ++i) {
            auto off = m.masks()[i].logical_not();
            EXPECT_TRUE(torch::equal(m.B()[i].masked_select(off), previous[i].masked_select(off)))
                << "task " << t << ": entries outside the mask keep the previous values exactly";
            changed = changed || !torch::equal(m.B()[i], previous[i]);
        }
        EXPECT_TRUE(changed);
        m.end_task(*b.ctx);
        if (t == 1) EXPECT_GT(m.B()[0].count_nonzero().item<int64_t>(), 0);
    }
    EXPECT_EQ(m.task_masks().size(), 2u);
}

TEST(LoRI, ClipsEachGradientTensorToNormOne) {
    Bench b(lori_config("lori-d"));
    LoRI m(b.config, "lori-d");
    m.begin_run(*b.ctx);
    b.start_task(m, 0);
    auto B0 = m.B()[0], B1 = m.B()[1];
    B0.mutable_grad() = torch::full(B0.sizes(), 10.0);
    B1.mutable_grad() = torch::full(B1.sizes(), 1e-3);
    auto small = B1.grad().clone();
    m.after_backward(*b.ctx);
    EXPECT_NEAR(B0.grad().norm().item<double>(), 1.0, 1e-5);
    EXPECT_TRUE(torch::equal(B1.grad(), small)) << "a gradient below the limit is untouched";
}

TEST(LoRI, MergeAnalysisSwapsAdaptersAndRestoresTheWeights) {
    Bench b(lori_config("lori-merge"));
    LoRI m(b.config, "lori-merge");
    m.begin_run(*b.ctx);
    auto qkv = b.model->lora_layers()[0].second;  // blocks.0.attn.qkv (q and v sites 0, 1)
    const auto w0 = qkv->weight.detach().clone();
    std::vector<torch::Tensor> seen_weights;
    int calls = 0;
    b.ctx->evaluate_tasks = [&](const std::vector<int>& tasks) {
        seen_weights.push_back(qkv->merged_weight());
        std::vector<EvalRow> rows;
        for (int t : tasks) {
            rows.push_back({1, t, 0, EvalPhase::end_of_task, HeadMode::class_il, 99, 100});
            rows.push_back({1, t, 0, EvalPhase::end_of_task, HeadMode::task_il, 10 * calls + t, 100});
        }
        ++calls;
        return rows;
    };
    std::vector<AnalysisPoint> points;
    b.ctx->emit = [&](const Event& e) {
        if (auto* a = std::get_if<AnalysisDone>(&e)) points.insert(points.end(), a->points.begin(), a->points.end());
    };
    torch::manual_seed(5);
    for (int t = 0; t < 2; ++t) {
        b.start_task(m, t);
        {
            torch::NoGradGuard no_grad;
            for (const auto& x : m.B()) x.copy_(torch::randn(x.sizes()));  // stands in for training
        }
        m.end_task(*b.ctx);
    }
    ASSERT_EQ(m.task_adapters().size(), 2u);
    EXPECT_NE(m.a_seeds()[0], m.a_seeds()[1]) << "merge mode draws a new A per task";
    // ΔW of the qkv layer (q rows 0..16, v rows 32..48) for a given merge of the two tasks.
    auto expected = [&](const std::vector<double>& weights, MergeKind kind, std::vector<int> tasks) {
        torch::Tensor w = w0.clone();
        for (size_t site = 0; site < 2; ++site) {
            std::vector<AdapterFactors> adapters;
            for (int t : tasks) adapters.push_back(m.task_adapters()[t][site]);
            w.slice(0, site == 0 ? 0 : 32, site == 0 ? 16 : 48) += merged_delta(adapters, weights, kind);
        }
        return w;
    };
    ASSERT_EQ(seen_weights.size(), 4u) << "alone ×2, cat, linear";
    EXPECT_TRUE(torch::allclose(seen_weights[0], expected({1.0}, MergeKind::cat, {0}), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(seen_weights[1], expected({1.0}, MergeKind::cat, {1}), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(seen_weights[2], expected({0.5, 0.5}, MergeKind::cat, {0, 1}), 1e-5, 1e-6));
    EXPECT_TRUE(torch::allclose(seen_weights[3], expected({0.5, 0.5}, MergeKind::linear, {0, 1}), 1e-5, 1e-6));
    EXPECT_FALSE(torch::allclose(seen_weights[2], seen_weights[3], 1e-5, 1e-6)) << "linear has cross terms";
    // restored: the configured cat merge, base weights bit for bit
    EXPECT_TRUE(torch::equal(qkv->weight.detach(), w0));
    EXPECT_TRUE(torch::allclose(qkv->merged_weight(), seen_weights[2], 0, 0));
    // points: y = 10·call + task (%, the task-IL rows), in the series the call belonged to
    std::map<std::string, std::vector<double>> merge;  // by series name
    int overlap_a = 0;
    for (const auto& p : points) {
        if (p.analysis == AnalysisKey::lori_merge) merge[name_of(p.series)].push_back(p.y);
        if (p.analysis == AnalysisKey::lori_overlap_a) {
            ++overlap_a;
            if (p.series == SeriesKey::of_task(static_cast<int>(p.x)))
                EXPECT_NEAR(p.y, 1.0, 1e-9);
            else
                EXPECT_LT(p.y, 0.9);
        }
    }
    EXPECT_EQ(merge["alone"], (std::vector<double>{0.0, 11.0}));
    EXPECT_EQ(merge["cat"], (std::vector<double>{20.0, 21.0}));
    EXPECT_EQ(merge["linear"], (std::vector<double>{30.0, 31.0}));
    EXPECT_EQ(overlap_a, 4);
}

// Merge mode (cat): the adapter set splits the installed merge by task — one term per task and site
// with task t, and Σ of the terms' ΔW equals what the live model adds to W (its merged weight minus
// W) in every layer. A linear merge has cross terms B_i A_j, so its set is the live merged term.
TEST(LoRI, MergeModeAdapterSetIsTheInstalledMergeSplitByTask) {
    for (const char* merge : {"cat", "linear"}) {
        Bench b(lori_config("lori-merge", {{"merge", merge}}));
        LoRI m(b.config, "lori-merge");
        m.begin_run(*b.ctx);
        torch::manual_seed(11);
        for (int t = 0; t < 3; ++t) {
            b.start_task(m, t);
            {
                torch::NoGradGuard no_grad;
                for (const auto& x : m.B()) x.copy_(torch::randn(x.sizes()));  // stands in for training
            }
            m.end_task(*b.ctx);
        }
        const AdapterSet set = m.adapter_set(*b.ctx);
        if (std::string(merge) == "cat") {
            ASSERT_EQ(set.terms.size(), 3u * m.sites().size());
            for (int t = 0; t < 3; ++t) EXPECT_EQ(set.terms_of_task(t).terms.size(), m.sites().size()) << t;
        } else {
            EXPECT_FALSE(set.has_per_task_terms()) << "a linear merge belongs to no single task";
        }
        int adapted = 0;
        for (auto& [name, layer] : b.model->lora_layers()) {
            if (layer->terms().empty()) continue;
            ++adapted;
            const torch::Tensor live = layer->merged_weight() - layer->weight.detach();
            const torch::Tensor from_set = set.delta(name);
            ASSERT_TRUE(from_set.defined()) << name;
            EXPECT_TRUE(torch::allclose(from_set, live, 1e-5, 1e-6))
                << merge << " " << name << ": max |Δ| " << (from_set - live).abs().max().item<double>();
        }
        EXPECT_EQ(adapted, 2) << "q and v of both blocks' qkv";
    }
}

TEST(LoRI, ShortRunTrainsTwoPassesPerTaskAndEmitsAnalyses) {
    namespace fs = std::filesystem;
    const fs::path cache = fs::temp_directory_path() / ("lorica-lori-" + std::to_string(::getpid()));
    nlohmann::json doc = {
        {"device", "cpu"},
        {"threads", 1},
        {"cache_dir", cache.string()},
        {"data", {{"train_per_class", 64}, {"test_per_class", 20}}},
        {"foundation", {{"enabled", false}}},
        {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
        {"backbone", {{"dim", 16}, {"depth", 1}, {"heads", 2}}},
        {"method", {{"name", "lori-merge"}, {"rank", 2}, {"alpha", 2.0}, {"options", {{"variant", "s"}}}}},
        {"train", {{"epochs", 1}, {"batch_size", 64}}},
        {"eval", {{"before_task", false}, {"random_init", false}}}};
    ExperimentConfig config = parse_experiment_config(doc);
    EventRecorder events;
    CancelToken cancel;
    ASSERT_EQ(run_experiment(config, events, cancel), RunStatus::finished);
    fs::remove_all(cache);
    int steps = 0, started = 0;
    int64_t last_step = 0, planned = 0;
    std::set<std::string> analyses;
    for (const auto& e : events.events()) {
        if (auto* s = std::get_if<StepMetrics>(&e)) {
            ++steps;
            EXPECT_EQ(s->step, last_step + 1) << "steps keep counting over the passes";
            last_step = s->step;
        }
        if (auto* t = std::get_if<TaskStarted>(&e)) {
            ++started;
            EXPECT_EQ(t->steps, 4) << "2 passes × 2 steps";
        }
        if (auto* r = std::get_if<RunStarted>(&e)) planned = r->total_steps;
        if (auto* a = std::get_if<AnalysisDone>(&e))
            for (const auto& p : a->points) analyses.insert(std::string(name_of(p.analysis)) + "/" + name_of(p.series));
    }
    EXPECT_EQ(started, 2) << "TaskStarted once per task";
    EXPECT_EQ(steps, 8) << "2 tasks × 2 passes × ceil(128 / 64)";
    EXPECT_EQ(planned, 8);
    for (const std::string& s :
         {"lori_merge/alone", "lori_merge/cat", "lori_merge/linear", "lori_overlap_a/task0", "lori_overlap_mask/task1"})
        EXPECT_TRUE(analyses.count(s)) << s;
}

TEST(LoRI, RegisteredNames) {
    for (const char* name : {"lori-d", "lori-s", "lori-merge"}) {
        ExperimentConfig c = lori_config(name);
        auto m = make_method(c);
        EXPECT_EQ(m->name(), name);
        EXPECT_EQ(m->passes_per_task(), std::string(name) == "lori-s" ? 2 : 1);
    }
}
