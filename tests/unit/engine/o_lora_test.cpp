// O-LoRA (engine/methods/o_lora.h): the loss λ₁ Σ |A_old A_newᵀ| + λ₂ (‖A_new‖_F + ‖B_new‖_F) and its
// gradient against a dense double-precision reference summed pair by pair, zero for an A orthogonal
// to the old ones, old pairs kept frozen as separate terms (the forward is W + Σ_k s B_k A_k), one
// exported term per task, storage growing with the tasks, the resume round trip through the
// trainer's own step, and the options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/methods/method_registry.h"
#include "engine/methods/o_lora.h"
#include "tests/support/method_bench.h"

using namespace lorica;
using lorica::testing::method_bench_config;
using lorica::testing::MethodBench;

namespace {

// Rank 3 on q and v, alpha 6 (s = 2).
ExperimentConfig o_lora_config(nlohmann::json options = nlohmann::json::object()) {
    ExperimentConfig c = method_bench_config("o-lora", 3, {"q", "v"}, std::move(options));
    c.method.alpha = 6.0;
    return c;
}

std::vector<double> o_lora_train_steps(MethodBench& bench, AdapterMethod& m, int steps, uint64_t seed) {
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

void o_lora_copy_backbone_and_heads(MethodBench& from, MethodBench& to) {
    torch::NoGradGuard no_grad;
    auto src = from.model->named_parameters();
    for (auto& p : to.model->named_parameters()) p.value().copy_(*src.find(p.key()));
    for (int h = 0; h < from.heads->size(); ++h) {
        to.heads->add_head(from.heads->classes(h), 0, torch::kCPU);
        to.heads->head(h)->weight.copy_(from.heads->head(h)->weight);
        to.heads->head(h)->bias.copy_(from.heads->head(h)->bias);
    }
}

// The method's trained factors (A, B per site), held by value.
std::vector<torch::Tensor> o_lora_adapter_params(OLoRA& method, MethodBench& bench) {
    return method.parameter_groups(*bench.ctx).at(0).params;
}

}  // namespace

TEST(OLoRA, LossAndItsGradientMatchADenseReference) {
    const double l1 = 0.7, l2 = 0.3;
    MethodBench bench(o_lora_config({{"lambda_orth", l1}, {"lambda_l2", l2}}), 4, 3);
    OLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    bench.start_task(method, 0);
    // Task 0 has no old A: only the L2 term, whose gradient at B = 0 is finite (0 in B).
    {
        torch::Tensor loss = method.regularizer(*bench.ctx);
        ASSERT_TRUE(loss.defined());
        loss.backward();
        for (const auto& p : o_lora_adapter_params(method, bench))
            EXPECT_TRUE(torch::isfinite(p.grad()).all().item<bool>());
    }
    for (int t = 0; t < 2; ++t) {  // two old tasks
        if (t > 0) bench.start_task(method, t);
        bench.randomise(method);
        method.end_task(*bench.ctx);
    }
    bench.start_task(method, 2);
    bench.randomise(method);
    auto params = o_lora_adapter_params(method, bench);
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    torch::Tensor loss = method.regularizer(*bench.ctx);
    loss.backward();

    // Reference: pair by pair in double, with autograd on copies.
    double reference = 0.0;
    ASSERT_EQ(method.kept().size(), 2 * method.sites().size());
    for (size_t i = 0; i < method.sites().size(); ++i) {
        auto A = params[2 * i].detach().to(torch::kFloat64).requires_grad_(true);
        auto B = params[2 * i + 1].detach().to(torch::kFloat64).requires_grad_(true);
        torch::Tensor r = l2 * (A.square().sum().sqrt() + B.square().sum().sqrt());
        for (const auto& k : method.kept())
            if (k.site == i) r = r + l1 * k.term.A.to(torch::kFloat64).matmul(A.t()).abs().sum();
        r.backward();
        reference += r.item<double>();
        EXPECT_TRUE(torch::allclose(params[2 * i].grad().to(torch::kFloat64), A.grad(), 1e-5, 1e-7)) << i;
        EXPECT_TRUE(torch::allclose(params[2 * i + 1].grad().to(torch::kFloat64), B.grad(), 1e-5, 1e-7)) << i;
    }
    EXPECT_NEAR(loss.item<double>(), reference, 1e-5 * reference);
}

TEST(OLoRA, AnANewOrthogonalToTheOldOnesCostsNothing) {
    MethodBench bench(o_lora_config(), 4, 3);  // λ₁ = 0.5, λ₂ = 0 (the released scripts)
    OLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    bench.start_task(method, 0);
    EXPECT_FALSE(method.regularizer(*bench.ctx).defined()) << "task 0 with λ₂ = 0: nothing to add";
    // Old A = rows 0..2 of the identity, new A = rows 3..5: A_old A_newᵀ = 0.
    {
        torch::NoGradGuard no_grad;
        for (auto& p : o_lora_adapter_params(method, bench))
            if (p.size(0) == 3) p.copy_(torch::eye(3, p.size(1)));
    }
    method.end_task(*bench.ctx);
    bench.start_task(method, 1);
    {
        torch::NoGradGuard no_grad;
        for (auto& p : o_lora_adapter_params(method, bench))
            if (p.size(0) == 3) p.copy_(torch::eye(6, p.size(1)).slice(0, 3, 6));
    }
    EXPECT_EQ(method.regularizer(*bench.ctx).item<double>(), 0.0);
    {
        torch::NoGradGuard no_grad;
        for (auto& p : o_lora_adapter_params(method, bench))
            if (p.size(0) == 3) p.copy_(torch::eye(3, p.size(1)));  // the same A as before: |A Aᵀ| = |I|
    }
    EXPECT_NEAR(method.regularizer(*bench.ctx).item<double>(), 0.5 * 3.0 * method.sites().size(), 1e-6);
}

TEST(OLoRA, OldPairsStayFrozenTermsAndExportOnePerTask) {
    MethodBench bench(o_lora_config(), 4, 3);
    OLoRA method(bench.config);
    method.begin_run(*bench.ctx);
    const auto w0 = bench.weights();
    for (int t = 0; t < 2; ++t) {
        bench.start_task(method, t);
        bench.train(method, 3);
        method.end_task(*bench.ctx);
    }
    // W is untouched, every pair is a frozen term of its task, the forward is W + Σ_k s B_k A_k.
    EXPECT_EQ(method.kept().size(), 2 * method.sites().size());
    for (auto& [name, layer] : bench.model->lora_layers()) {
        EXPECT_TRUE(torch::equal(layer->weight, w0.at(name))) << name;
        torch::Tensor expected = layer->weight.clone();
        for (const auto& t : layer->terms()) {
            EXPECT_FALSE(t.trainable_factors()) << name;
            expected.slice(0, t.row_offset, t.row_offset + t.rows()) += 2.0 * t.B.matmul(t.A);
        }
        EXPECT_TRUE(torch::allclose(layer->merged_weight(), expected, 1e-6, 1e-7)) << name;
    }
    const AdapterSet set = method.adapter_set(*bench.ctx);
    ASSERT_EQ(set.terms.size(), 2 * method.sites().size());
    int per_task[2] = {0, 0};
    for (const auto& t : set.terms) {
        ASSERT_TRUE(t.task == 0 || t.task == 1);
        ++per_task[t.task];
        EXPECT_EQ(t.tag, "o-lora-task" + std::to_string(t.task));
    }
    EXPECT_EQ(per_task[0], static_cast<int>(method.sites().size()));
    EXPECT_EQ(per_task[1], static_cast<int>(method.sites().size()));
    int64_t pair = 0;
    for (const auto& s : method.sites()) pair += 3 * (s.in + s.rows);
    EXPECT_EQ(method.storage(*bench.ctx).stored_params, 2 * pair);
}

TEST(OLoRA, ResumedRunEqualsTheRunLeftAlone) {
    const ExperimentConfig config = o_lora_config({{"lambda_orth", 0.5}, {"lambda_l2", 0.01}});
    MethodBench original(config, 9, 3);
    auto method = make_method(config);
    method->begin_run(*original.ctx);
    original.start_task(*method, 0);
    o_lora_train_steps(original, *method, 5, 1);
    method->end_task(*original.ctx);
    const StateSnapshot saved = method->save_state(*original.ctx);
    ASSERT_FALSE(saved.tensors.empty());

    MethodBench resumed(config, 10, 3), unrestored(config, 10, 3);
    o_lora_copy_backbone_and_heads(original, resumed);
    o_lora_copy_backbone_and_heads(original, unrestored);
    auto fresh = make_method(config);
    fresh->begin_run(*resumed.ctx);
    fresh->restore_state(*resumed.ctx, saved);
    StateSnapshot perturbed = saved;  // the control: kept factors off by 1e-3
    for (auto& [name, t] : perturbed.tensors) t = t * 1.001f;
    auto plain = make_method(config);
    plain->begin_run(*unrestored.ctx);
    plain->restore_state(*unrestored.ctx, perturbed);

    torch::manual_seed(5);
    original.start_task(*method, 1);
    torch::manual_seed(5);
    resumed.start_task(*fresh, 1);
    torch::manual_seed(5);
    unrestored.start_task(*plain, 1);
    const auto losses = o_lora_train_steps(original, *method, 5, 2);
    const auto resumed_losses = o_lora_train_steps(resumed, *fresh, 5, 2);
    const auto plain_losses = o_lora_train_steps(unrestored, *plain, 5, 2);
    EXPECT_EQ(losses, resumed_losses);
    EXPECT_NE(losses, plain_losses);
    method->end_task(*original.ctx);
    fresh->end_task(*resumed.ctx);
    auto layers = original.model->lora_layers();
    auto resumed_layers = resumed.model->lora_layers();
    for (size_t i = 0; i < layers.size(); ++i)
        EXPECT_TRUE(torch::equal(layers[i].second->merged_weight(), resumed_layers[i].second->merged_weight()))
            << layers[i].first;
    const StateSnapshot next = method->save_state(*original.ctx), resumed_next = fresh->save_state(*resumed.ctx);
    EXPECT_EQ(next.meta, resumed_next.meta);
    ASSERT_EQ(next.tensors.size(), resumed_next.tensors.size());
    for (const auto& [name, t] : next.tensors) EXPECT_TRUE(torch::equal(t, resumed_next.get(name))) << name;
}

TEST(OLoRA, AnOptionOfEWCLoRAIsRefusedByName) {
    for (const char* option : {"lambda", "gamma", "fisher_batches"}) {
        try {
            (void)make_method(o_lora_config({{option, 1}}));
            FAIL() << option << " was accepted by o-lora";
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), std::string("method.options.") + option);
        }
    }
}
