// Merged incremental LoRA: after a task W = W_before + s·B A, `drop` leaves W unchanged, the kept
// factors reproduce the sum of the merges, the full-update variant changes exactly the adapted rows,
// and every rank from 1 to 32 works.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tests/support/method_bench.h"
#include "engine/methods/merged_lora.h"
#include "engine/methods/method_registry.h"
#include "engine/vocabulary/analysis_keys.h"
#include "engine/train/optimizer_factory.h"

using namespace lorica;

namespace {

constexpr int64_t kDim = lorica::testing::kMethodBenchDim;

// Rank 4 (alpha 4, ignored while alpha_per_rank = 2: s = 2) on `targets` (tests/support/method_bench.h).
ExperimentConfig merged_config(const std::string& name, std::vector<std::string> targets, nlohmann::json options = {}) {
    return lorica::testing::method_bench_config(name, 4, std::move(targets), std::move(options));
}

struct Bench : lorica::testing::MethodBench {
    explicit Bench(ExperimentConfig c) : MethodBench(std::move(c), 21, 3) {}
};

}  // namespace

TEST(MergedLoRA, MergeAddsScaledProductToTheWeight) {
    Bench b(merged_config("merged-lora", {"qkv"}));
    MergedLoRA m(b.config, "merged-lora");
    m.begin_run(*b.ctx);
    ASSERT_EQ(m.sites().size(), 2u);
    EXPECT_DOUBLE_EQ(m.scale(b.config), 2.0) << "alpha = 2r";
    b.start_task(m, 0);
    b.randomise(m);
    auto before = b.weights();
    std::vector<torch::Tensor> expected;
    for (auto& site : m.sites()) {
        const auto& t = site.layer->terms().at(0);
        expected.push_back(before[site.module] + 2.0 * t.B.detach().mm(t.A.detach()));
    }
    m.end_task(*b.ctx);
    auto after = b.weights();
    for (size_t i = 0; i < m.sites().size(); ++i) {
        EXPECT_TRUE(m.sites()[i].layer->terms().empty()) << "the adapter is folded away";
        EXPECT_LE((m.sites()[i].layer->weight.detach() - expected[i]).abs().max().item<double>(), 1e-6);
    }
    EXPECT_TRUE(torch::equal(after["blocks.0.attn.proj"], before["blocks.0.attn.proj"]));
    EXPECT_EQ(m.kept_factors().size(), 2u);
    EXPECT_EQ(m.describe(*b.ctx)["trainable_parameters"].get<int64_t>(), 2 * 4 * (16 + 48)) << "r (in + rows) per qkv";
}

TEST(MergedLoRA, DropLeavesTheWeightUnchanged) {
    Bench b(merged_config("merged-lora", {"qkv"}, {{"after_task", "drop"}}));
    MergedLoRA m(b.config, "merged-lora");
    m.begin_run(*b.ctx);
    auto before = b.weights();
    for (int t = 0; t < 2; ++t) {
        b.start_task(m, t);
        b.train(m, 3);
        m.end_task(*b.ctx);
    }
    auto after = b.weights();
    for (auto& [name, w] : before) EXPECT_TRUE(torch::equal(after[name], w)) << name;
    for (auto& site : m.sites()) EXPECT_TRUE(site.layer->terms().empty());
    ASSERT_EQ(m.kept_factors().size(), 4u) << "the dropped adapters are still kept";
    EXPECT_GT(m.kept_factors()[0].B.abs().max().item<double>(), 0.0);
}

TEST(MergedLoRA, KeptFactorsReproduceTheSumOfMerges) {
    // q and v slices of the fused qkv, three tasks trained with AdamW (weight decay 0.01).
    Bench b(merged_config("merged-lora", {"q", "v"}));
    MergedLoRA m(b.config, "merged-lora");
    m.begin_run(*b.ctx);
    auto w0 = b.weights();
    for (int t = 0; t < 3; ++t) {
        b.start_task(m, t);
        b.train(m, 3);
        m.end_task(*b.ctx);
    }
    ASSERT_EQ(m.kept_factors().size(), 3u * 4u);
    std::map<std::string, torch::Tensor> rebuilt;
    for (auto& [name, x] : w0) rebuilt[name] = x.clone();
    for (const auto& f : m.kept_factors()) {
        const std::string module = f.site.substr(0, f.site.find(':'));
        rebuilt[module].slice(0, f.row_offset, f.row_offset + f.B.size(0)) += f.delta();
    }
    auto w = b.weights();
    for (auto& [name, x] : w) EXPECT_LE((x - rebuilt[name]).abs().max().item<double>(), 1e-6) << name;
    EXPECT_GT((w["blocks.1.attn.qkv"] - w0["blocks.1.attn.qkv"]).abs().max().item<double>(), 1e-4);
    // k rows untouched
    EXPECT_TRUE(torch::equal(w["blocks.0.attn.qkv"].slice(0, 16, 32), w0["blocks.0.attn.qkv"].slice(0, 16, 32)));

    // The exported adapter set holds the same factors relative to the foundation weights: W0 + ΔW = W.
    const AdapterSet set = m.adapter_set(*b.ctx);
    EXPECT_EQ(set.base, "foundation");
    ASSERT_EQ(set.terms.size(), 3u * 4u);
    for (const std::string& module : set.modules())
        EXPECT_LE((w0[module] + set.delta(module) - w[module]).abs().max().item<double>(), 1e-6) << module;
}

TEST(MergedLoRA, FullUpdateChangesExactlyTheAdaptedRows) {
    Bench b(merged_config("merged-lora-ft", {"q"}));
    MergedLoRA m(b.config, "merged-lora-ft");
    EXPECT_EQ(m.options().update, MergedUpdate::full);
    m.begin_run(*b.ctx);
    auto w0 = b.weights();
    b.start_task(m, 0);
    int64_t trainable = 0;
    for (auto& g : m.parameter_groups(*b.ctx))
        for (auto& p : g.params) trainable += p.numel();
    EXPECT_EQ(trainable, 2 * 16 * 16) << "the q block [dim, dim] of each of the 2 blocks";
    b.train(m, 4);
    m.end_task(*b.ctx);
    auto w = b.weights();
    for (auto& [name, x] : w) {
        if (name.find("qkv") == std::string::npos) {
            EXPECT_TRUE(torch::equal(x, w0[name])) << name;
            continue;
        }
        EXPECT_GT((x.slice(0, 0, 16) - w0[name].slice(0, 0, 16)).abs().max().item<double>(), 1e-4) << name;
        EXPECT_TRUE(torch::equal(x.slice(0, 16, 48), w0[name].slice(0, 16, 48))) << name << ": k and v rows";
    }
    const auto& f = m.kept_factors().at(0);
    EXPECT_TRUE(torch::allclose(
        f.delta(), w["blocks.0.attn.qkv"].slice(0, 0, 16) - w0["blocks.0.attn.qkv"].slice(0, 0, 16), 1e-5, 1e-6));
}

TEST(MergedLoRA, EveryRankFromOneTo32) {
    for (int rank : {1, 2, 4, 8, 16, 32}) {
        ExperimentConfig c = merged_config("merged-lora", {"qkv"});
        c.method.rank = rank;
        Bench b(c);
        MergedLoRA m(b.config, "merged-lora");
        m.begin_run(*b.ctx);
        b.start_task(m, 0);
        b.train(m, 1);
        EXPECT_EQ(b.model->lora_layers()[0].second->terms().at(0).rank(), rank);
        m.end_task(*b.ctx);
        EXPECT_EQ(m.kept_factors().at(0).A.size(0), rank);
        EXPECT_DOUBLE_EQ(m.kept_factors().at(0).scale, 2.0);
    }
}

TEST(MergedLoRA, OptionsAreValidatedAndRegistered) {
    try {
        MergedLoRA(merged_config("merged-lora", {"qkv"}, {{"after_task", "keep"}}), "merged-lora");
        FAIL() << "expected a ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "method.options.after_task");
        EXPECT_NE(std::string(e.what()).find("drop"), std::string::npos);
    }
    for (const char* name : {"merged-lora", "merged-lora-ft"}) {
        ExperimentConfig c = merged_config(name, {"qkv"});
        EXPECT_EQ(make_method(c)->name(), name);
    }
    // alpha_per_rank 0: method.alpha / rank
    MergedLoRA plain(merged_config("merged-lora", {"qkv"}, {{"alpha_per_rank", 0.0}}), "merged-lora");
    EXPECT_DOUBLE_EQ(plain.scale(merged_config("merged-lora", {"qkv"})), 1.0);
}
