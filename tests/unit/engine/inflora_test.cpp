// InfLoRA (engine/methods/inflora.h, inflora_dual_gpm.h): the DualGPM update against hand-computed
// subspaces (threshold rule, growth, the remove → retain switch above half the space), the
// down-projection's orthogonality to the stored subspace, the defining property on the model (a new
// task's branch leaves the adapted layers' outputs unchanged on inputs in the old tasks' subspace),
// the input-feature matrix's trace (LayerNorm outputs: ‖x‖² = dim per token), storage, per-task PEFT
// export, the resume round trip, and the config errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/resume_state.h"
#include "engine/methods/catalog/method_catalog.h"
#include "engine/methods/inflora.h"
#include "engine/methods/method_registry.h"
#include "tests/support/method_bench.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::kMethodBenchDim;
using lorica::testing::method_bench_config;
using lorica::testing::MethodBench;

namespace {

constexpr int64_t kInfLoRARank = 3;

// Rank 3 on k and v; thresholds 0.9 → 0.95 so the tiny model's subspaces stay below its width.
ExperimentConfig inflora_config(nlohmann::json options = {{"lamb", 0.9}, {"lame", 0.95}}) {
    ExperimentConfig c = method_bench_config("inflora", static_cast<int>(kInfLoRARank), {"k", "v"}, std::move(options));
    c.backbone.dim = static_cast<int>(kMethodBenchDim);
    return c;
}

// A fixed task data set the method's feature passes visit: batches of 6 and 4 images.
struct InfLoRATaskData {
    std::vector<TaskBatch> batches;
    explicit InfLoRATaskData(uint64_t seed) {
        torch::manual_seed(seed);
        batches.push_back({torch::randn({6, 1, 8, 8}), torch::randint(0, 2, {6})});
        batches.push_back({torch::randn({4, 1, 8, 8}), torch::randint(0, 2, {4})});
    }
    void install(MethodContext& ctx) const {
        ctx.task_batches = [this](int64_t max_batches, const std::function<void(const TaskBatch&)>& visit) {
            for (size_t i = 0; i < batches.size(); ++i) {
                if (max_batches > 0 && static_cast<int64_t>(i) >= max_batches) break;
                visit(batches[i]);
            }
        };
    }
};

std::vector<double> inflora_train_steps(MethodBench& bench, AdapterMethod& m, int steps, uint64_t seed) {
    const TaskPreparation prep = prepare_task(bench.heads, bench.config.train, bench.heads->size() - 1);
    PassOptimizer pass = make_pass_optimizer(m, *bench.ctx, prep, bench.config.train.optimizer);
    GradScaler scaler(false);
    torch::manual_seed(seed);
    std::vector<double> losses;
    for (int s = 0; s < steps; ++s) {
        auto x = torch::randn({16, 1, 8, 8});
        auto y = torch::randint(0, 2, {16});
        losses.push_back(train_step({*bench.ctx, m, scaler}, prep, pass, x, task_targets(prep, y)).item<double>());
    }
    return losses;
}

// One task as the trainer runs it: head, begin_task (features), `steps` steps, end_task (features).
std::vector<double> inflora_run_task(MethodBench& bench, AdapterMethod& m, int t, const InfLoRATaskData& data) {
    data.install(*bench.ctx);
    bench.start_task(m, t);
    auto losses = inflora_train_steps(bench, m, 4, 50 + t);
    m.end_task(*bench.ctx);
    return losses;
}

// The projector onto the span of `basis`'s columns, float64.
torch::Tensor inflora_projector(const torch::Tensor& basis) { return basis.matmul(basis.t()); }

torch::Tensor inflora_unit(int64_t dim, int64_t i) {
    auto e = torch::zeros({dim, 1}, torch::kFloat64);
    e[i][0] = 1.0;
    return e;
}

// Every term of the method's branches: (site, task) → (A, B).
std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> inflora_branches(const InfLoRA& m) {
    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> out;
    for (const AdapterSite& site : m.sites())
        for (const LowRankTerm& t : site.layer->terms())
            if (t.row_offset == site.row_offset)
                out[site.name() + "#" + std::to_string(t.task)] = {t.A.detach().clone(), t.B.detach().clone()};
    return out;
}

void inflora_copy_backbone_and_heads(MethodBench& from, MethodBench& to) {
    torch::NoGradGuard no_grad;
    auto src = from.model->named_parameters();
    for (auto& p : to.model->named_parameters()) p.value().copy_(*src.find(p.key()));
    for (int h = 0; h < from.heads->size(); ++h) {
        to.heads->add_head(from.heads->classes(h), 0, torch::kCPU);
        to.heads->head(h)->weight.copy_(from.heads->head(h)->weight);
        to.heads->head(h)->bias.copy_(from.heads->head(h)->bias);
    }
}

}  // namespace

// Hand-computed DualGPM on diagonal feature matrices of width 4 (singular values are the diagonal).
TEST(InfLoRADualGPM, GrowsBySingularValueEnergyAndSwitchesToTheComplementAboveHalf) {
    const int64_t dim = 4;
    InfLoRASubspace s;
    // Task 0: S = (3, 1): energy ratios 0.9, 0.1; cumsum < 0.95 for the first only → basis e1.
    s.update(torch::diag(torch::tensor({3.0, 1.0, 0.0, 0.0}, torch::kFloat64)), 0.95);
    ASSERT_FALSE(s.empty());
    EXPECT_EQ(s.type, InfLoRAProjection::remove);
    ASSERT_EQ(s.basis.size(1), 1);
    EXPECT_TRUE(torch::allclose(inflora_projector(s.basis), inflora_projector(inflora_unit(dim, 0))));
    // Task 1: F = diag(1, 0, 2, 0), ‖S‖² = 5; outside e1 the energy is 4, so e = 1/5 < 0.95 takes e3
    // (e becomes 1) and stops: basis {e1, e3}, 2 columns = half the space, still remove.
    s.update(torch::diag(torch::tensor({1.0, 0.0, 2.0, 0.0}, torch::kFloat64)), 0.95);
    EXPECT_EQ(s.type, InfLoRAProjection::remove);
    ASSERT_EQ(s.basis.size(1), 2);
    EXPECT_TRUE(torch::allclose(inflora_projector(s.basis),
                                inflora_projector(torch::cat({inflora_unit(dim, 0), inflora_unit(dim, 2)}, 1))));
    // A task whose energy is already inside the subspace adds nothing (e = 1 ≥ τ).
    s.update(torch::diag(torch::tensor({5.0, 0.0, 1.0, 0.0}, torch::kFloat64)), 0.95);
    ASSERT_EQ(s.basis.size(1), 2);
    // Task 2: F = diag(0, 1, 0, 0) lies outside: e2 joins, 3 > 4/2 columns → kept as the complement e4.
    s.update(torch::diag(torch::tensor({0.0, 1.0, 0.0, 0.0}, torch::kFloat64)), 0.95);
    EXPECT_EQ(s.type, InfLoRAProjection::retain);
    ASSERT_EQ(s.basis.size(1), 1);
    EXPECT_TRUE(torch::allclose(inflora_projector(s.basis), inflora_projector(inflora_unit(dim, 3))));
    EXPECT_TRUE(torch::allclose(inflora_projector(s.old_space(dim)),
                                torch::eye(dim, torch::kFloat64) - inflora_projector(inflora_unit(dim, 3))));
    EXPECT_EQ(s.stored_scalars(), dim);
    // Retain: F = diag(0, 0, 1, 0.1): energy in the kept complement e4 is 0.01 / 1.01 < 1 − 0.95, so
    // nothing of e4 moves into the old space.
    s.update(torch::diag(torch::tensor({0.0, 0.0, 1.0, 0.1}, torch::kFloat64)), 0.95);
    EXPECT_EQ(s.basis.size(1), 1);
    // F = diag(0, 0, 0, 1): all its energy is in e4 → e4 joins the old space, nothing is retained.
    s.update(torch::diag(torch::tensor({0.0, 0.0, 0.0, 1.0}, torch::kFloat64)), 0.95);
    EXPECT_EQ(s.type, InfLoRAProjection::retain);
    EXPECT_EQ(s.basis.size(1), 0);
}

TEST(InfLoRADualGPM, ThresholdRisesFromLambToLameOverTheTasks) {
    InfLoRAOptions o;
    o.lamb = 0.98;
    o.lame = 1.0;
    EXPECT_DOUBLE_EQ(o.threshold(0, 10), 0.98);
    EXPECT_DOUBLE_EQ(o.threshold(5, 10), 0.99);
    EXPECT_NEAR(o.threshold(9, 10), 0.998, 1e-12);
}

// A_t = top-r left singular vectors of F with the old space taken out, / √3: its rows are orthonormal
// up to 1/√3 and orthogonal to the old subspace, whichever basis (remove or retain) DualGPM keeps.
TEST(InfLoRADualGPM, DownProjectionIsOrthogonalToTheStoredSubspace) {
    const int64_t dim = 16, rank = 3;
    torch::manual_seed(4);
    for (int old_dims : {3, 11}) {
        SCOPED_TRACE(old_dims);
        InfLoRASubspace s;
        // An old task with singular values 1 on `old_dims` random orthonormal directions and 0.1 on one
        // more: the energy before that last one is n / (n + 0.01) < 0.9999, so exactly n are kept.
        const torch::Tensor q = std::get<0>(torch::linalg_qr(torch::randn({dim, dim}, torch::kFloat64)));
        auto sv = torch::zeros({dim}, torch::kFloat64);
        sv.slice(0, 0, old_dims).fill_(1.0);
        sv[old_dims] = 0.1;
        s.update(q.matmul(torch::diag(sv)).matmul(q.t()), 0.9999);
        EXPECT_EQ(s.type, old_dims * 2 > dim ? InfLoRAProjection::retain : InfLoRAProjection::remove);
        const torch::Tensor old = s.old_space(dim);
        ASSERT_EQ(old.size(1), old_dims);
        auto y = torch::randn({dim, 40}, torch::kFloat64);
        const torch::Tensor a = inflora_down_projection(s, y.matmul(y.t()), rank);
        ASSERT_EQ(a.sizes(), (torch::IntArrayRef{rank, dim}));
        EXPECT_LE(a.to(torch::kFloat32).to(torch::kFloat64).matmul(old).norm().item<double>(), 1e-5);
        EXPECT_TRUE(torch::allclose(a.matmul(a.t()), torch::eye(rank, torch::kFloat64) / 3.0, 0, 1e-12));
        // Without an old space A_0 is the top eigenvectors of F itself.
        const torch::Tensor a0 = inflora_down_projection(InfLoRASubspace{}, y.matmul(y.t()), rank);
        auto [evals, evecs] = torch::linalg_eigh(y.matmul(y.t()));
        const torch::Tensor top = evecs.slice(1, dim - rank);
        EXPECT_TRUE(torch::allclose(inflora_projector(a0.t() * std::sqrt(3.0)), inflora_projector(top), 0, 1e-9));
    }
}

// The defining property on the model: after task 0, task 1's branch (trained B, random here) leaves
// each adapted qkv layer's k and v rows unchanged on inputs in the old subspace, and ‖A_1 U_old‖ ≤ 1e-5.
TEST(InfLoRA, NewBranchLeavesOldSubspaceInputsUnmoved) {
    MethodBench bench(inflora_config(), 3, 3);
    InfLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    const InfLoRATaskData data0(11), data1(12);
    inflora_run_task(bench, method, 0, data0);
    data1.install(*bench.ctx);
    bench.start_task(method, 1);
    bench.randomise(method);  // stands in for training task 1's B
    ASSERT_EQ(method.layer_modules().size(), 2u);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < method.sites().size(); ++i) {
        const AdapterSite& site = method.sites()[i];
        const int l = site.module == method.layer_modules()[0] ? 0 : 1;
        const torch::Tensor old = method.subspaces()[l].old_space(kMethodBenchDim);  // [dim, m]
        ASSERT_GT(old.size(1), 0) << site.name();
        const LowRankTerm* branch = nullptr;
        for (const LowRankTerm& t : site.layer->terms())
            if (t.task == 1 && t.row_offset == site.row_offset) branch = &t;
        ASSERT_NE(branch, nullptr) << site.name();
        EXPECT_LE(branch->A.to(torch::kFloat64).matmul(old).norm().item<double>(), 1e-5) << site.name();
        EXPECT_GT(branch->B.norm().item<double>(), 0.0);
        // Inputs in the old subspace: the layer's output with the branch equals the output without it.
        const torch::Tensor x = torch::randn({7, old.size(1)}, torch::kFloat64).matmul(old.t()).to(torch::kFloat32);
        LoRALinear layer = site.layer;
        const torch::Tensor with_branch = layer->forward(x);
        const torch::Tensor trained_b = branch->B.clone();
        branch->B.zero_();
        const torch::Tensor without = layer->forward(x);
        branch->B.copy_(trained_b);
        EXPECT_LE((with_branch - without).abs().max().item<double>(), 1e-5 * without.abs().max().item<double>())
            << site.name();
        // A generic input does move (the check can fail).
        const torch::Tensor g = torch::randn({7, kMethodBenchDim});
        EXPECT_GT(g.matmul(branch->delta().t()).abs().max().item<double>(), 1e-3) << site.name();
    }
}

// The features are (1/n) Σ x xᵀ of the blocks' norm1 outputs: with LayerNorm's unit weight and zero
// bias every token has ‖x‖² = dim·var/(var + eps) ≈ dim, so tr F ≈ dim; block 0's F equals the one computed
// by hand; feature_batches = 1 reads only the first batch.
TEST(InfLoRA, InputFeaturesAreTheMeanOuterProductOfTheAttentionInputs) {
    MethodBench bench(inflora_config(), 3, 3);
    InfLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    const InfLoRATaskData data(13);
    data.install(*bench.ctx);
    const auto features = method.input_features(*bench.ctx);
    ASSERT_EQ(features.size(), 2u);
    for (const auto& f : features) {
        EXPECT_EQ(f.dtype(), torch::kFloat64);
        // ‖x‖² = dim · var / (var + 1e-6) per token: just below dim (the tiny model's tokens have var ~1e-3).
        EXPECT_LE(f.trace().item<double>(), static_cast<double>(kMethodBenchDim));
        EXPECT_GE(f.trace().item<double>(), static_cast<double>(kMethodBenchDim) - 0.05);
        EXPECT_TRUE(torch::allclose(f, f.t()));
    }
    // Block 0's tokens by hand: patch embedding, class token, position embedding, norm1.
    auto* vit = bench.model.get();
    torch::NoGradGuard no_grad;
    torch::Tensor x0 = torch::cat({data.batches[0].images, data.batches[1].images});
    torch::Tensor t = vit->patch_embed(x0);
    t = torch::cat({vit->cls_token.expand({t.size(0), -1, -1}), t}, 1) + vit->pos_embed;
    const torch::Tensor h = (*vit->blocks)[0]->as<BlockImpl>()->norm1(t).reshape({-1, kMethodBenchDim});
    const torch::Tensor by_hand = h.t().matmul(h).to(torch::kFloat64) / static_cast<double>(h.size(0));
    EXPECT_TRUE(torch::allclose(features[0], by_hand, 1e-5, 1e-6));

    MethodBench one(inflora_config({{"lamb", 0.9}, {"lame", 0.95}, {"feature_batches", 1}}), 3, 3);
    InfLoRA first_batch(one.config);
    first_batch.begin_run(*one.ctx);
    data.install(*one.ctx);
    const auto f1 = first_batch.input_features(*one.ctx);
    EXPECT_FALSE(torch::allclose(f1[0], features[0]));
}

// Only B trains; old branches stay frozen in the layers; storage counts branches and bases.
TEST(InfLoRA, TrainsOnlyBAndStoresBranchesAndBases) {
    MethodBench bench(inflora_config(), 3, 3);
    InfLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    inflora_run_task(bench, method, 0, InfLoRATaskData(21));
    const auto after0 = inflora_branches(method);
    const InfLoRATaskData data1(22);
    data1.install(*bench.ctx);
    bench.start_task(method, 1);
    const auto groups = method.parameter_groups(*bench.ctx);
    ASSERT_EQ(groups.size(), 1u);
    ASSERT_EQ(groups[0].params.size(), method.sites().size());
    for (const auto& p : groups[0].params) {
        EXPECT_EQ(p.size(1), kInfLoRARank);  // B [rows, r]
        EXPECT_TRUE(p.requires_grad());
    }
    inflora_train_steps(bench, method, 3, 7);
    method.end_task(*bench.ctx);
    const auto after1 = inflora_branches(method);
    for (const auto& [key, ab] : after0) {
        EXPECT_TRUE(torch::equal(ab.first, after1.at(key).first)) << key;
        EXPECT_TRUE(torch::equal(ab.second, after1.at(key).second)) << key;
    }
    int64_t params = 0;
    for (const AdapterSite& site : method.sites()) params += 2 * (kInfLoRARank * site.in + site.rows * kInfLoRARank);
    int64_t features = 0;
    for (const auto& s : method.subspaces()) features += s.basis.numel();
    const MethodStorage storage = method.storage(*bench.ctx);
    EXPECT_EQ(storage.stored_params, params);
    EXPECT_EQ(storage.stored_features, features);
    EXPECT_GT(features, 0);
}

// Per-task export: the adapter set holds one branch per task per site; each task's terms alone go
// through the PEFT files (without Lorica's sidecar) to the same ΔW.
TEST(InfLoRA, EachTasksBranchesExportThroughPEFT) {
    MethodBench bench(inflora_config(), 3, 3);
    InfLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    inflora_run_task(bench, method, 0, InfLoRATaskData(31));
    inflora_run_task(bench, method, 1, InfLoRATaskData(32));
    const AdapterSet set = method.adapter_set(*bench.ctx);
    ASSERT_TRUE(set.has_per_task_terms());
    ASSERT_EQ(set.terms.size(), 2 * method.sites().size());
    lorica::testing::TempDir dir("inflora-peft");
    for (int task : {0, 1}) {
        const AdapterSet one = set.terms_of_task(task);
        ASSERT_EQ(one.terms.size(), method.sites().size());
        const std::string out = (dir.path / ("task" + std::to_string(task))).string();
        export_peft_adapter(out, one);
        const AdapterSet back = import_peft_adapter(out, /*use_sidecar=*/false);
        for (const std::string& module : one.modules())
            EXPECT_TRUE(torch::allclose(back.delta(module), one.delta(module), 1e-5, 1e-6)) << task << " " << module;
        EXPECT_GT(one.delta(one.modules().front()).abs().max().item<double>(), 0.0);
    }
}

// A run resumed after task 0 (fresh method, the checkpoint's backbone and heads, restore_state from the
// resume file) trains task 1 exactly as the run left alone; a state whose bases are slightly off does not.
TEST(InfLoRA, ResumedRunEqualsTheRunLeftAlone) {
    const ExperimentConfig config = inflora_config();
    const InfLoRATaskData data0(41), data1(42);
    MethodBench original(config, 9, 3);
    auto method = make_method(config);
    method->begin_run(*original.ctx);
    inflora_run_task(original, *method, 0, data0);
    // Through a resume file, as the trainer writes and reads it (float tensors are stored as float32).
    lorica::testing::TempDir dir("inflora-resume");
    ResumeState written;
    written.method = method->name();
    written.method_format = method->state_format();
    written.method_state = method->save_state(*original.ctx);
    written.cpu_generator = at::detail::getDefaultCPUGenerator().get_state();
    write_resume_state(dir.path.string(), written, {});
    const StateSnapshot saved = read_resume_state(dir.path.string()).method_state;
    ASSERT_TRUE(saved.has("basis0"));

    MethodBench resumed(config, 10, 3), perturbed(config, 10, 3);
    inflora_copy_backbone_and_heads(original, resumed);
    inflora_copy_backbone_and_heads(original, perturbed);
    auto fresh = make_method(config);
    fresh->begin_run(*resumed.ctx);
    fresh->restore_state(*resumed.ctx, saved);
    StateSnapshot off = saved;
    for (auto& [name, t] : off.tensors)
        if (name.rfind("basis", 0) == 0) t = t + 1e-3 * torch::randn_like(t);
    auto plain = make_method(config);
    plain->begin_run(*perturbed.ctx);
    plain->restore_state(*perturbed.ctx, off);

    const auto losses = inflora_run_task(original, *method, 1, data1);
    const auto resumed_losses = inflora_run_task(resumed, *fresh, 1, data1);
    const auto perturbed_losses = inflora_run_task(perturbed, *plain, 1, data1);
    EXPECT_EQ(losses, resumed_losses);
    const auto a = inflora_branches(static_cast<const InfLoRA&>(*method));
    const auto b = inflora_branches(static_cast<const InfLoRA&>(*fresh));
    const auto c = inflora_branches(static_cast<const InfLoRA&>(*plain));
    ASSERT_EQ(a.size(), b.size());
    bool control_differs = false;
    for (const auto& [key, ab] : a) {
        EXPECT_TRUE(torch::equal(ab.first, b.at(key).first)) << key;
        EXPECT_TRUE(torch::equal(ab.second, b.at(key).second)) << key;
        control_differs = control_differs || !torch::equal(ab.first, c.at(key).first);
    }
    EXPECT_TRUE(control_differs) << "a slightly different basis trains the same: the test would not see it lost";
    const StateSnapshot next = method->save_state(*original.ctx), resumed_next = fresh->save_state(*resumed.ctx);
    EXPECT_EQ(next.meta, resumed_next.meta);
    ASSERT_EQ(next.tensors.size(), resumed_next.tensors.size());
    for (const auto& [name, t] : next.tensors) EXPECT_TRUE(torch::equal(t, resumed_next.get(name))) << name;
}

TEST(InfLoRA, ConfigErrorsNameTheField) {
    auto field_of = [](const ExperimentConfig& c) -> std::string {
        try {
            validate_method_config(c);
            (void)make_method(c);
            return "";
        } catch (const ConfigError& e) {
            return e.field();
        }
    };
    EXPECT_EQ(field_of(inflora_config()), "");
    ExperimentConfig rank = inflora_config();
    rank.method.rank = static_cast<int>(kMethodBenchDim) + 1;
    EXPECT_EQ(field_of(rank), "method.rank");
    ExperimentConfig mlp = inflora_config();
    mlp.method.targets = {"k", "fc1"};
    EXPECT_EQ(field_of(mlp), "method.targets");
    ExperimentConfig pattern = inflora_config();
    pattern.method.targets = {"blocks.*.attn.qkv:v"};
    EXPECT_EQ(field_of(pattern), "");
    ExperimentConfig resnet = inflora_config();
    resnet.backbone.family = BackboneFamily::resnet;
    EXPECT_EQ(field_of(resnet), "method.name");
    EXPECT_EQ(method_declaration("inflora").backbones, std::vector<BackboneFamily>{BackboneFamily::vit});
    EXPECT_TRUE(method_declaration("inflora").per_task_terms);
}
