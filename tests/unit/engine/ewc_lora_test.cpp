// EWC-LoRA (engine/methods/ewc_lora.h): the penalty (λ/2) Σ Ω ⊙ (s B A)² and its gradient against a
// dense double-precision reference, Ω's accumulation γ·Ω + F against a Fisher computed by hand
// through a separate dense probe term, the exact fold of the pair into W, constant storage, the
// resume round trip through the trainer's own step (which adds the penalty), and the options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/methods/ewc_lora.h"
#include "engine/methods/method_registry.h"
#include "tests/support/method_bench.h"

using namespace lorica;
using lorica::testing::method_bench_config;
using lorica::testing::MethodBench;

namespace {

// Rank 3 on q and v, alpha 6 (s = 2, so the scale is part of every check).
ExperimentConfig ewc_config(nlohmann::json options = nlohmann::json::object()) {
    ExperimentConfig c = method_bench_config("ewc-lora", 3, {"q", "v"}, std::move(options));
    c.method.alpha = 6.0;
    return c;
}

// A fixed task data set the method's Fisher pass visits: two batches of 5 and 3 images.
struct EWCFakeTaskData {
    std::vector<TaskBatch> batches;
    explicit EWCFakeTaskData(uint64_t seed) {
        torch::manual_seed(seed);
        batches.push_back({torch::randn({5, 1, 8, 8}), torch::randint(0, 2, {5})});
        batches.push_back({torch::randn({3, 1, 8, 8}), torch::randint(0, 2, {3})});
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

// The empirical Fisher of each site's ΔW computed by hand: a dense probe term D [rows, in] = 0 added
// on every site (A = I, trained B = D), the gradient of each batch's mean cross-entropy with respect
// to D (= with respect to ΔW), squared, weighted by the batch size, averaged over the images.
std::vector<torch::Tensor> ewc_probe_fisher(MethodBench& bench, const EWCLoRA& method, const EWCFakeTaskData& data,
                                            int64_t max_batches = 0) {
    std::vector<torch::Tensor> probes;
    for (AdapterSite site : method.sites()) {
        LowRankTerm probe;
        probe.A = torch::eye(site.in);
        probe.B = torch::zeros({site.rows, site.in}, torch::kFloat32).requires_grad_(true);
        probe.row_offset = site.row_offset;
        probe.tag = "probe";
        probes.push_back(site.layer->add_term(probe).B);
    }
    bench.model->eval();
    std::vector<torch::Tensor> fisher;
    for (const auto& site : method.sites()) fisher.push_back(torch::zeros({site.rows, site.in}, torch::kFloat64));
    int64_t images = 0;
    for (size_t b = 0; b < data.batches.size(); ++b) {
        if (max_batches > 0 && static_cast<int64_t>(b) >= max_batches) break;
        const TaskBatch& batch = data.batches[b];
        auto loss = torch::nn::functional::cross_entropy(
            bench.heads->logits_of(bench.model->features(batch.images), bench.heads->size() - 1), batch.labels);
        auto grads = torch::autograd::grad({loss}, probes);
        const int64_t n = batch.images.size(0);
        for (size_t i = 0; i < grads.size(); ++i) fisher[i] += grads[i].to(torch::kFloat64).square() * n;
        images += n;
    }
    for (auto& f : fisher) f /= static_cast<double>(images);
    for (AdapterSite site : method.sites()) site.layer->remove_terms("probe");
    bench.model->train();
    return fisher;
}

// Runs `steps` training steps of the trainer (train_step: cross-entropy + the method's regularizer)
// on seeded random data; returns the losses.
std::vector<double> ewc_train_steps(MethodBench& bench, AdapterMethod& m, int steps, uint64_t seed) {
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

// `to`'s backbone and heads become `from`'s.
void ewc_copy_backbone_and_heads(MethodBench& from, MethodBench& to) {
    torch::NoGradGuard no_grad;
    auto src = from.model->named_parameters();
    for (auto& p : to.model->named_parameters()) p.value().copy_(*src.find(p.key()));
    for (int h = 0; h < from.heads->size(); ++h) {
        to.heads->add_head(from.heads->classes(h), 0, torch::kCPU);
        to.heads->head(h)->weight.copy_(from.heads->head(h)->weight);
        to.heads->head(h)->bias.copy_(from.heads->head(h)->bias);
    }
}

// A restorable state with a given Ω per site (the way a test sets the importance).
StateSnapshot ewc_state_with_importance(const std::vector<torch::Tensor>& omega) {
    StateSnapshot s;
    for (size_t i = 0; i < omega.size(); ++i) s.put("omega." + std::to_string(i), omega[i]);
    s.meta = {{"tasks_folded", 1}, {"trainable_count", 0}, {"importance_sites", static_cast<int64_t>(omega.size())}};
    return s;
}

}  // namespace

TEST(EWCLoRA, PenaltyAndItsGradientMatchADenseReference) {
    const double lambda = 250.0;
    MethodBench bench(ewc_config({{"lambda", lambda}}), 3, 3);
    EWCLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    EXPECT_FALSE(method.regularizer(*bench.ctx).defined()) << "no penalty before the first task has ended";
    std::vector<torch::Tensor> omega;
    for (const auto& site : method.sites()) omega.push_back(torch::rand({site.rows, site.in}));
    method.restore_state(*bench.ctx, ewc_state_with_importance(omega));
    bench.start_task(method, 1);
    bench.randomise(method);

    torch::Tensor penalty = method.regularizer(*bench.ctx);
    ASSERT_TRUE(penalty.defined());
    ASSERT_EQ(penalty.dim(), 0);
    penalty.backward();

    // Reference in double: (λ/2) Σ Ω ⊙ (s B A)², and its gradient by hand:
    //   ∂/∂B = λ s (Ω ⊙ ΔW) Aᵀ,  ∂/∂A = λ s Bᵀ (Ω ⊙ ΔW).
    const double s = 2.0;
    double reference = 0.0;
    auto groups = method.parameter_groups(*bench.ctx);
    const auto& params = groups.at(0).params;
    ASSERT_EQ(params.size(), 2 * method.sites().size());
    for (size_t i = 0; i < method.sites().size(); ++i) {
        const auto A = params[2 * i].detach().to(torch::kFloat64);
        const auto B = params[2 * i + 1].detach().to(torch::kFloat64);
        const auto O = omega[i].to(torch::kFloat64);
        const auto dW = s * B.matmul(A);
        reference += lambda / 2.0 * (O * dW.square()).sum().item<double>();
        const auto grad_B = lambda * s * (O * dW).matmul(A.t());
        const auto grad_A = lambda * s * B.t().matmul(O * dW);
        EXPECT_TRUE(torch::allclose(params[2 * i + 1].grad().to(torch::kFloat64), grad_B, 1e-4, 1e-6)) << i;
        EXPECT_TRUE(torch::allclose(params[2 * i].grad().to(torch::kFloat64), grad_A, 1e-4, 1e-6)) << i;
    }
    EXPECT_GT(reference, 0.0);
    EXPECT_NEAR(penalty.item<double>(), reference, 1e-5 * reference);

    // λ = 0 adds nothing.
    MethodBench plain(ewc_config({{"lambda", 0.0}}), 3, 3);
    EWCLoRA off(plain.config);
    off.begin_run(*plain.ctx);
    off.restore_state(*plain.ctx, ewc_state_with_importance(omega));
    plain.start_task(off, 1);
    EXPECT_FALSE(off.regularizer(*plain.ctx).defined());
}

TEST(EWCLoRA, ImportanceAccumulatesGammaTimesOldPlusTheFisherByHand) {
    const double gamma = 0.5;
    MethodBench bench(ewc_config({{"gamma", gamma}}), 5, 3);
    EWCLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    const EWCFakeTaskData data0(11), data1(12);

    // Task 0: train, the Fisher by hand, then end_task: Ω = F_0, and the pair is folded exactly.
    data0.install(*bench.ctx);
    bench.start_task(method, 0);
    bench.train(method, 4);
    const auto f0 = ewc_probe_fisher(bench, method, data0);
    std::map<std::string, torch::Tensor> merged_before;
    for (auto& [name, layer] : bench.model->lora_layers()) merged_before[name] = layer->merged_weight();
    method.end_task(*bench.ctx);
    ASSERT_EQ(method.importance().size(), method.sites().size());
    for (size_t i = 0; i < f0.size(); ++i) {
        EXPECT_GT(f0[i].abs().max().item<double>(), 0.0);
        EXPECT_TRUE(torch::allclose(method.importance()[i].to(torch::kFloat64), f0[i], 1e-4, 1e-12)) << i;
    }
    for (auto& [name, layer] : bench.model->lora_layers()) {
        EXPECT_TRUE(layer->terms().empty()) << name;
        EXPECT_TRUE(torch::allclose(layer->weight, merged_before[name], 1e-6, 1e-7)) << name;
    }
    int64_t omega_size = 0;
    for (const auto& site : method.sites()) omega_size += site.rows * site.in;
    EXPECT_EQ(method.storage(*bench.ctx).stored_params, omega_size);

    // Task 1 (the penalty now on): Ω = γ·F_0 + F_1, and the storage is the same.
    data1.install(*bench.ctx);
    bench.start_task(method, 1);
    bench.train(method, 4);
    const auto f1 = ewc_probe_fisher(bench, method, data1);
    method.end_task(*bench.ctx);
    for (size_t i = 0; i < f1.size(); ++i)
        EXPECT_TRUE(torch::allclose(method.importance()[i].to(torch::kFloat64), gamma * f0[i] + f1[i], 1e-4, 1e-12))
            << i;
    EXPECT_EQ(method.storage(*bench.ctx).stored_params, omega_size);
    EXPECT_TRUE(method.adapter_set(*bench.ctx).terms.empty()) << "the update lives in W: nothing per task";
}

TEST(EWCLoRA, FisherBatchesStopsTheFisherPassEarly) {
    MethodBench bench(ewc_config({{"fisher_batches", 1}}), 5, 3);
    EWCLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    const EWCFakeTaskData data(13);
    data.install(*bench.ctx);
    bench.start_task(method, 0);
    bench.train(method, 3);
    const auto first_only = ewc_probe_fisher(bench, method, data, 1);
    const auto all = ewc_probe_fisher(bench, method, data, 0);
    method.end_task(*bench.ctx);
    for (size_t i = 0; i < first_only.size(); ++i) {
        EXPECT_TRUE(torch::allclose(method.importance()[i].to(torch::kFloat64), first_only[i], 1e-4, 1e-12)) << i;
        EXPECT_FALSE(torch::allclose(all[i], first_only[i], 1e-4, 1e-12)) << i;
    }
}

// Trains task 0, saves the state, and compares task 1 of the method left alone with that of a fresh
// method restored from the state (bit for bit) and of one restored without its importance (differs).
void expect_resume_equals_the_run_left_alone(const ExperimentConfig& config) {
    const EWCFakeTaskData data0(21), data1(22);
    MethodBench original(config, 9, 3);
    auto method = make_method(config);
    method->begin_run(*original.ctx);
    data0.install(*original.ctx);
    original.start_task(*method, 0);
    ewc_train_steps(original, *method, 5, 1);
    method->end_task(*original.ctx);
    const StateSnapshot saved = method->save_state(*original.ctx);
    ASSERT_FALSE(saved.tensors.empty());

    // Fresh methods on copies of the backbone and heads (what the checkpoint holds): one given the
    // state, one given the state without its importance (the control: the penalty must matter).
    MethodBench resumed(config, 10, 3), unrestored(config, 10, 3);
    ewc_copy_backbone_and_heads(original, resumed);
    ewc_copy_backbone_and_heads(original, unrestored);
    auto fresh = make_method(config);
    fresh->begin_run(*resumed.ctx);
    fresh->restore_state(*resumed.ctx, saved);
    StateSnapshot none = saved;
    for (auto it = none.tensors.begin(); it != none.tensors.end();)
        it = it->first.rfind("omega.", 0) == 0 ? none.tensors.erase(it) : std::next(it);
    none.meta["importance_sites"] = 0;
    auto plain = make_method(config);
    plain->begin_run(*unrestored.ctx);
    plain->restore_state(*unrestored.ctx, none);

    data1.install(*original.ctx);
    data1.install(*resumed.ctx);
    torch::manual_seed(5);
    original.start_task(*method, 1);
    torch::manual_seed(5);
    resumed.start_task(*fresh, 1);
    torch::manual_seed(5);
    unrestored.start_task(*plain, 1);
    const auto losses = ewc_train_steps(original, *method, 5, 2);
    const auto resumed_losses = ewc_train_steps(resumed, *fresh, 5, 2);
    const auto plain_losses = ewc_train_steps(unrestored, *plain, 5, 2);
    EXPECT_EQ(losses, resumed_losses);
    EXPECT_NE(losses, plain_losses) << "a run without the importance trains the same: the test would not see it lost";
    method->end_task(*original.ctx);
    fresh->end_task(*resumed.ctx);
    auto a = original.model->named_parameters();
    for (const auto& p : resumed.model->named_parameters())
        EXPECT_TRUE(torch::equal(p.value(), *a.find(p.key()))) << p.key();
    const StateSnapshot next = method->save_state(*original.ctx), resumed_next = fresh->save_state(*resumed.ctx);
    EXPECT_EQ(next.meta, resumed_next.meta);
    ASSERT_EQ(next.tensors.size(), resumed_next.tensors.size());
    for (const auto& [name, t] : next.tensors) EXPECT_TRUE(torch::equal(t, resumed_next.get(name))) << name;
}

TEST(EWCLoRA, ResumedRunEqualsTheRunLeftAlone) {
    expect_resume_equals_the_run_left_alone(ewc_config({{"lambda", 1e4}}));
}

TEST(EWCLoRA, ResumedRunWithTheReleasedFactorSumEqualsTheRunLeftAlone) {
    expect_resume_equals_the_run_left_alone(ewc_config({{"lambda", 1e4}, {"fold", "factor-sum"}}));
}

TEST(EWCLoRA, FactorSumFoldKeepsOneSummedPairWithItsCrossTerms) {
    MethodBench bench(ewc_config({{"fold", "factor-sum"}}), 5, 3);
    EWCLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    const EWCFakeTaskData data(14);
    data.install(*bench.ctx);
    const auto w0 = bench.weights();
    std::vector<std::vector<torch::Tensor>> factors;  // per task: A, B per site (copies)
    for (int t = 0; t < 2; ++t) {
        bench.start_task(method, t);
        bench.train(method, 3);
        std::vector<torch::Tensor> f;
        const auto groups = method.parameter_groups(*bench.ctx);
        for (const auto& p : groups.at(0).params) f.push_back(p.detach().clone());
        factors.push_back(f);
        method.end_task(*bench.ctx);
    }
    // W is untouched; each site carries s (B_0 + B_1)(A_0 + A_1), which is not s (B_0 A_0 + B_1 A_1).
    std::map<std::string, torch::Tensor> expected;
    for (const auto& [name, w] : w0) expected[name] = w.clone();
    double cross = 0.0;
    for (size_t i = 0; i < method.sites().size(); ++i) {
        const AdapterSite& site = method.sites()[i];
        const auto A = factors[0][2 * i] + factors[1][2 * i], B = factors[0][2 * i + 1] + factors[1][2 * i + 1];
        expected[site.module].slice(0, site.row_offset, site.row_offset + site.rows) += 2.0 * B.matmul(A);
        const auto exact =
            factors[0][2 * i + 1].matmul(factors[0][2 * i]) + factors[1][2 * i + 1].matmul(factors[1][2 * i]);
        cross += (B.matmul(A) - exact).abs().max().item<double>();
    }
    EXPECT_GT(cross, 0.0) << "the released fold's cross terms";
    for (auto& [name, layer] : bench.model->lora_layers()) {
        EXPECT_TRUE(torch::equal(layer->weight, w0.at(name))) << name;
        EXPECT_TRUE(torch::allclose(layer->merged_weight(), expected.at(name), 1e-5, 1e-6)) << name;
    }
    int64_t stored = 0;
    for (const auto& site : method.sites()) stored += site.rows * site.in + 3 * (site.in + site.rows);
    EXPECT_EQ(method.storage(*bench.ctx).stored_params, stored);
}

TEST(EWCLoRA, RestoreRefusesImportanceOfAnotherShape) {
    MethodBench bench(ewc_config(), 3, 3);
    EWCLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    std::vector<torch::Tensor> omega;
    for (size_t i = 0; i < method.sites().size(); ++i) omega.push_back(torch::rand({5, 7}));
    try {
        method.restore_state(*bench.ctx, ewc_state_with_importance(omega));
        FAIL() << "a misshapen importance was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("omega.0"), std::string::npos) << e.what();
    }
}

TEST(EWCLoRA, AnOptionOfOLoRAIsRefusedByName) {
    for (const char* option : {"lambda_orth", "lambda_l2"}) {
        try {
            (void)make_method(ewc_config({{option, 0.5}}));
            FAIL() << option << " was accepted by ewc-lora";
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), std::string("method.options.") + option);
        }
    }
}
