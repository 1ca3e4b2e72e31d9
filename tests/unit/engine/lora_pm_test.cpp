// LoRA-P&M (engine/methods/lora_pm.h): the merge coefficient α* against its closed form on a
// hand-made case and against the literal sum over tasks, the perturbed steps (θ ± εΔ with the
// configured probabilities, deterministic in the seed, never seen outside the step), the merge
// W ← W + α* s B A with the factors kept at scale α* s, and a resumed run equal to the run left alone.
#include <algorithm>
#include <array>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/methods/lora_pm.h"
#include "tests/support/method_bench.h"

using namespace lorica;

namespace {

ExperimentConfig pm_config(nlohmann::json options = nlohmann::json::object()) {
    return lorica::testing::method_bench_config("lora-pm", 3, {"k", "v"}, std::move(options));
}

struct Bench : lorica::testing::MethodBench {
    explicit Bench(ExperimentConfig c) : MethodBench(std::move(c), 21, 3) {
        // 48 fixed images per task, batches of 16 (the trainer's task_batches contract).
        ctx->task_batches = [this](int64_t max_batches, const std::function<void(const TaskBatch&)>& visit) {
            auto gen = at::detail::createCPUGenerator(500 + static_cast<uint64_t>(ctx->task));
            const torch::Tensor x = torch::randn({48, 1, 8, 8}, gen);
            const torch::Tensor y = torch::randint(0, 2, {48}, gen);
            for (int64_t b = 0; b < 3 && (max_batches == 0 || b < max_batches); ++b)
                visit(TaskBatch{x.slice(0, 16 * b, 16 * (b + 1)), y.slice(0, 16 * b, 16 * (b + 1))});
        };
    }
    // Task t: its head, a fresh pair (A drawn after manual_seed(300 + t)), 4 steps on data of seed 400 + t.
    void run_task(LoRAPM& m, int t) {
        torch::manual_seed(300 + t);
        start_task(m, t);
        torch::manual_seed(400 + t);
        train(m, 4);
    }
    std::vector<torch::Tensor> site_deltas(const LoRAPM& m) {
        std::vector<torch::Tensor> out;
        for (const auto& site : m.sites())
            for (const auto& t : site.layer->terms())
                if (t.row_offset == site.row_offset) out.push_back(t.delta().detach().clone());
        return out;
    }
};

std::vector<torch::Tensor> one_site(std::vector<float> values) { return {torch::tensor(values)}; }

}  // namespace

TEST(LoRAPM, CoefficientIsTheClosedFormOnAHandMadeCase) {
    // Task 0: F0 = [1, 2], Δ0 = [1, 1]: α0 = 1 (nothing to trade against), and R ← S ⊙ Δ0 − F0 ⊙ Δ0 = 0.
    auto s = one_site({1, 2});
    auto r = one_site({0, 0});
    EXPECT_DOUBLE_EQ(lora_pm_coefficient(one_site({1, 2}), s, r, one_site({1, 1}), true), 1.0);
    lora_pm_advance_residual(r, one_site({1, 2}), s, one_site({1, 1}), 1.0);
    EXPECT_EQ(r[0].abs().max().item<float>(), 0.0f);
    // Task 1: F1 = [3, 1], Δ1 = [1, −2], S = [4, 3]:
    //   α1 = −[(θ̂0 − θ0*)ᵀF0Δ1 + (θ̂0 − θ1*)ᵀF1Δ1] / Δ1ᵀ(F0 + F1)Δ1 = −[0 − (3·1 + 1·4)] / (4·1 + 3·4) = 7/16.
    s[0].add_(torch::tensor({3.0f, 1.0f}));
    EXPECT_NEAR(lora_pm_coefficient(one_site({3, 1}), s, r, one_site({1, -2}), true), 7.0 / 16.0, 1e-12);
    // A residual that pulls the other way: R = [8, 0] gives (7 − 8) / 16 < 0, clamped to 0 unless asked not to.
    EXPECT_NEAR(lora_pm_coefficient(one_site({3, 1}), s, one_site({8, 0}), one_site({1, -2}), false), -1.0 / 16.0,
                1e-12);
    EXPECT_EQ(lora_pm_coefficient(one_site({3, 1}), s, one_site({8, 0}), one_site({1, -2}), true), 0.0);
    // No curvature: the update is merged as trained.
    EXPECT_EQ(lora_pm_coefficient(one_site({0, 0}), one_site({0, 0}), r, one_site({1, 1}), true), 1.0);
}

TEST(LoRAPM, RunningSumsEqualTheLiteralSumOverEveryTask) {
    // Four tasks on two sites with random Fisher diagonals and updates: α_t from S and R against
    //   α_t = −Σ_{i≤t} (θ̂_{t−1} − θ_i*)ᵀ F_i Δ_t / Σ_{i≤t} Δ_tᵀ F_i Δ_t   with θ vectors kept explicitly.
    torch::manual_seed(3);
    const std::vector<std::vector<int64_t>> shapes = {{3, 4}, {2, 5}};
    std::vector<torch::Tensor> theta_hat, s, r;
    for (const auto& shape : shapes) {
        theta_hat.push_back(torch::randn(shape, torch::kDouble));
        s.push_back(torch::zeros(shape, torch::kDouble));
        r.push_back(torch::zeros(shape, torch::kDouble));
    }
    std::vector<std::vector<torch::Tensor>> fishers, optima;
    for (int t = 0; t < 4; ++t) {
        std::vector<torch::Tensor> f, d;
        for (const auto& shape : shapes) {
            f.push_back(torch::rand(shape, torch::kDouble));
            d.push_back(torch::randn(shape, torch::kDouble));
        }
        std::vector<torch::Tensor> optimum;
        for (size_t k = 0; k < shapes.size(); ++k) optimum.push_back(theta_hat[k] + d[k]);
        fishers.push_back(f);
        optima.push_back(optimum);
        double num = 0.0, den = 0.0;
        for (int i = 0; i <= t; ++i)
            for (size_t k = 0; k < shapes.size(); ++k) {
                num += ((theta_hat[k] - optima[i][k]) * fishers[i][k] * d[k]).sum().item<double>();
                den += (d[k] * fishers[i][k] * d[k]).sum().item<double>();
            }
        const double literal = -num / den;
        for (size_t k = 0; k < shapes.size(); ++k) s[k].add_(f[k]);
        const double alpha = lora_pm_coefficient(f, s, r, d, false);
        EXPECT_NEAR(alpha, literal, 1e-9) << "task " << t;
        if (t == 0) EXPECT_NEAR(alpha, 1.0, 1e-12);
        lora_pm_advance_residual(r, f, s, d, alpha);
        for (size_t k = 0; k < shapes.size(); ++k) theta_hat[k] = theta_hat[k] + alpha * d[k];
    }
}

TEST(LoRAPM, PerturbationsFollowTheirProbabilitiesAndTheSeed) {
    Bench b(pm_config());
    LoRAPM m(b.config);
    std::array<int, 3> counts{};
    std::vector<int> first, again, other_seed;
    for (int64_t step = 0; step < 6000; ++step) {
        const int p = m.perturbation(7, 2, step);
        ++counts[static_cast<size_t>(p + 1)];
        if (step < 64) {
            first.push_back(p);
            again.push_back(m.perturbation(7, 2, step));
            other_seed.push_back(m.perturbation(8, 2, step));
        }
    }
    for (int c : counts) EXPECT_NEAR(c / 6000.0, 1.0 / 3.0, 0.025);
    EXPECT_EQ(first, again);
    EXPECT_NE(first, other_seed);
    LoRAPM skewed(pm_config({{"p_plus", 0.7}, {"p_minus", 0.0}}));
    int plus = 0;
    for (int64_t step = 0; step < 6000; ++step) {
        const int p = skewed.perturbation(7, 0, step);
        EXPECT_NE(p, -1);
        plus += p == 1;
    }
    EXPECT_NEAR(plus / 6000.0, 0.7, 0.025);
    EXPECT_THROW(LoRAPM(pm_config({{"p_plus", 0.6}, {"p_minus", 0.5}})), ConfigError);
}

TEST(LoRAPM, AStepSeesThePerturbedTermAndNothingElseDoes) {
    Bench b(pm_config());
    LoRAPM m(b.config);
    m.begin_run(*b.ctx);
    b.start_task(m, 1);
    const double s = m.scale(b.config);
    EXPECT_DOUBLE_EQ(s, 2.0) << "alpha_per_rank 2";
    for (int64_t step = 0; step < 30; ++step) {
        m.before_step(*b.ctx);
        const double expected = s * (1.0 + 0.5 * m.perturbation(7, 1, step));
        for (const auto& site : m.sites()) EXPECT_EQ(site.layer->terms().at(0).scale, expected) << step;
        m.after_step(*b.ctx);
        for (const auto& site : m.sites()) EXPECT_EQ(site.layer->terms().at(0).scale, s) << step;
    }
    // epsilon 0: LoRA-M, every step at θ.
    LoRAPM plain(pm_config({{"epsilon", 0.0}}));
    Bench b2(pm_config({{"epsilon", 0.0}}));
    plain.begin_run(*b2.ctx);
    b2.start_task(plain, 0);
    for (int step = 0; step < 10; ++step) {
        plain.before_step(*b2.ctx);
        for (const auto& site : plain.sites()) EXPECT_EQ(site.layer->terms().at(0).scale, 2.0);
        plain.after_step(*b2.ctx);
    }
}

TEST(LoRAPM, MergeAddsTheCoefficientTimesTheUpdateAndKeepsItsFactors) {
    // α* of each task against the literal formula with the Fisher of every task, θ kept explicitly.
    Bench b(pm_config());
    LoRAPM m(b.config);
    m.begin_run(*b.ctx);
    std::vector<torch::Tensor> theta_hat;
    for (const auto& site : m.sites())
        theta_hat.push_back(
            site.layer->matrix().detach().slice(0, site.row_offset, site.row_offset + site.rows).clone());
    const auto w0 = b.weights();
    std::vector<std::vector<torch::Tensor>> fishers, optima;
    for (int t = 0; t < 3; ++t) {
        b.run_task(m, t);
        const std::vector<torch::Tensor> delta = b.site_deltas(m);
        ASSERT_EQ(delta.size(), m.sites().size());
        fishers.push_back(m.task_fisher(*b.ctx));
        std::vector<torch::Tensor> optimum;
        for (size_t k = 0; k < delta.size(); ++k) optimum.push_back(theta_hat[k] + delta[k]);
        optima.push_back(optimum);
        double num = 0.0, den = 0.0;
        for (int i = 0; i <= t; ++i)
            for (size_t k = 0; k < delta.size(); ++k) {
                num += ((theta_hat[k] - optima[i][k]) * fishers[i][k] * delta[k]).sum(torch::kDouble).item<double>();
                den += (delta[k] * fishers[i][k] * delta[k]).sum(torch::kDouble).item<double>();
            }
        const double literal = std::clamp(-num / den, 0.0, 1.0);
        const auto before = b.weights();
        m.end_task(*b.ctx);
        ASSERT_EQ(m.coefficients().size(), static_cast<size_t>(t + 1));
        const double alpha = m.coefficients().back();
        EXPECT_NEAR(alpha, literal, 1e-4) << "task " << t;
        if (t == 0) EXPECT_DOUBLE_EQ(alpha, 1.0);
        for (size_t k = 0; k < m.sites().size(); ++k) {
            const AdapterSite& site = m.sites()[k];
            EXPECT_TRUE(site.layer->terms().empty());
            const torch::Tensor rows =
                site.layer->weight.detach().slice(0, site.row_offset, site.row_offset + site.rows);
            const torch::Tensor expected =
                before.at(site.module).slice(0, site.row_offset, site.row_offset + site.rows) + alpha * delta[k];
            EXPECT_LE((rows - expected).abs().max().item<double>(), 1e-6) << site.name();
            theta_hat[k] = rows.clone();
        }
        const auto state = m.state(*b.ctx);
        const auto magnitudes = std::find_if(state.begin(), state.end(),
                                             [](const MethodState& s) { return s.key == StateKey::magnitudes; });
        ASSERT_NE(magnitudes, state.end());
        EXPECT_EQ(magnitudes->values, m.coefficients());
    }
    EXPECT_LT(m.coefficients()[1], 1.0) << "a later task trades against the earlier ones";
    // The kept factors (scale α* s) sum to what was merged; q rows never changed.
    const AdapterSet set = m.adapter_set(*b.ctx);
    EXPECT_EQ(set.base, "foundation");
    ASSERT_EQ(set.terms.size(), 3 * m.sites().size());
    auto w = b.weights();
    for (auto& [name, w_start] : w0) {
        torch::Tensor sum = w_start.clone();
        for (const AdapterTerm& t : set.terms)
            if (t.module == name) sum.slice(0, t.row_offset, t.row_offset + t.B.size(0)).add_(t.B.mm(t.A) * t.scale);
        EXPECT_LE((sum - w[name]).abs().max().item<double>(), 1e-5) << name;
        EXPECT_TRUE(torch::equal(w[name].slice(0, 0, lorica::testing::kMethodBenchDim),
                                 w_start.slice(0, 0, lorica::testing::kMethodBenchDim)))
            << "q rows of " << name;
    }
    for (size_t i = 0; i < set.terms.size(); ++i)
        EXPECT_DOUBLE_EQ(set.terms[i].scale, 2.0 * m.coefficients()[i / m.sites().size()]);
    const MethodStorage storage = m.storage(*b.ctx);
    int64_t factors = 0, dense = 0;
    for (const AdapterTerm& t : set.terms) factors += t.A.numel() + t.B.numel();
    for (const auto& site : m.sites()) dense += 2 * site.rows * site.in;
    EXPECT_EQ(storage.stored_params, factors + dense + 3);
}

TEST(LoRAPM, AResumedRunEqualsTheRunLeftAlone) {
    Bench alone(pm_config({{"fisher_batches", 2}}));
    LoRAPM m(alone.config);
    m.begin_run(*alone.ctx);
    StateSnapshot after_1;
    std::map<std::string, torch::Tensor> params_after_1;
    for (int t = 0; t < 3; ++t) {
        alone.run_task(m, t);
        m.end_task(*alone.ctx);
        if (t == 1) {
            after_1 = m.save_state(*alone.ctx);
            for (const auto& p : alone.model->named_parameters()) params_after_1[p.key()] = p.value().detach().clone();
            for (const auto& p : alone.heads->named_parameters())
                params_after_1["heads." + p.key()] = p.value().detach().clone();
        }
    }
    // A fresh method on a model holding the checkpoint after task 1, then task 2.
    Bench resumed(pm_config({{"fisher_batches", 2}}));
    for (int t = 0; t < 2; ++t) resumed.heads->add_head(2, 100 + t, torch::kCPU);
    {
        torch::NoGradGuard no_grad;
        for (auto& p : resumed.model->named_parameters()) p.value().copy_(params_after_1.at(p.key()));
        for (auto& p : resumed.heads->named_parameters()) p.value().copy_(params_after_1.at("heads." + p.key()));
    }
    LoRAPM r(resumed.config);
    r.begin_run(*resumed.ctx);
    r.restore_state(*resumed.ctx, after_1);
    resumed.run_task(r, 2);
    r.end_task(*resumed.ctx);
    EXPECT_EQ(r.coefficients(), m.coefficients());
    const auto a = alone.weights(), b = resumed.weights();
    for (auto& [name, w] : a) EXPECT_TRUE(torch::equal(w, b.at(name))) << name;
    const StateSnapshot sa = m.save_state(*alone.ctx), sb = r.save_state(*resumed.ctx);
    EXPECT_EQ(sa.meta, sb.meta);
    ASSERT_EQ(sa.tensors.size(), sb.tensors.size());
    for (const auto& [name, t] : sa.tensors) EXPECT_TRUE(torch::equal(t, sb.tensors.at(name))) << name;
}
