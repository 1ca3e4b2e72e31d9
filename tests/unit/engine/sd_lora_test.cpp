// SD-LoRA: option validation, shared magnitudes, hand-over arithmetic, merged inference, the
// before/after hand-over evaluations, step-state cadence, and SD-LoRA-KD's absorption of a direction
// that the old ones reproduce (function-preserving) versus keeping an orthogonal one.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/model/vit.h"
#include "engine/methods/method_registry.h"
#include "engine/methods/sd_lora.h"
#include "engine/vocabulary/analysis_keys.h"
#include "engine/train/optimizer_factory.h"

using namespace lorica;

namespace {

// A tiny ViT (dim 16, 2 blocks) with an SD-LoRA method and a context whose callbacks record calls.
struct Harness {
    ExperimentConfig config;
    VisionTransformer model{nullptr};
    TaskHeads heads{nullptr};
    std::unique_ptr<MethodContext> ctx;
    std::vector<EvalPhase> phases;
    std::vector<Event> events;

    explicit Harness(const std::string& method, nlohmann::json options = nlohmann::json::object(), int rank = 4) {
        config.method.name = method;
        config.method.rank = rank;
        config.method.alpha = rank;
        config.method.options = std::move(options);
        torch::manual_seed(7);
        model = VisionTransformer(ViTOptions().dim(16).depth(2).heads(2).head_classes(3));
        heads = TaskHeads(16);
        ctx = std::make_unique<MethodContext>(
            MethodContext{model, heads, config, 0, 4, 0, torch::kCPU, 0, {}, {}, {}, {}});
        ctx->evaluate_seen = [this](EvalPhase p) { phases.push_back(p); };
        ctx->emit = [this](const Event& e) { events.push_back(e); };
        ctx->warn = [](const std::string&) {};
    }

    // Terms of task t in model order (q before v in each block).
    std::vector<LowRankTerm*> terms(int t) {
        std::vector<LowRankTerm*> out;
        for (auto& [name, layer] : model->lora_layers())
            for (auto& term : layer->terms())
                if (term.tag == "sd-lora-task" + std::to_string(t)) out.push_back(&term);
        return out;
    }

    torch::Tensor features(const torch::Tensor& x) {
        torch::NoGradGuard no_grad;
        model->eval();
        return model->features(x);
    }
};

std::unique_ptr<SDLoRA> make_sd_lora(const ExperimentConfig& config) {
    auto method = make_method(config);
    auto* raw = dynamic_cast<SDLoRA*>(method.release());
    EXPECT_NE(raw, nullptr);
    return std::unique_ptr<SDLoRA>(raw);
}

// Stands in for training: random factors and a moved magnitude.
void pretend_trained(Harness& h, int t, double magnitude) {
    torch::NoGradGuard no_grad;
    for (auto* term : h.terms(t)) {
        term->B.copy_(torch::randn_like(term->B) * 0.3);
        term->A.copy_(torch::randn_like(term->A) * 0.3);
        term->magnitude.fill_(magnitude);
    }
}

void run_task(Harness& h, SDLoRA& m, int t, const std::function<void()>& train) {
    h.ctx->task = t;
    m.begin_task(*h.ctx);
    train();
    m.end_task(*h.ctx);
}

std::string config_error_field(const std::string& method, const nlohmann::json& options) {
    ExperimentConfig c;
    c.method.name = method;
    c.method.options = options;
    try {
        make_method(c);
    } catch (const ConfigError& e) {
        return e.field() + " | " + e.what();
    }
    return "";
}

}  // namespace

TEST(SDLoRA, OptionErrorsNameTheFieldAndTheAllowedValues) {
    auto err = config_error_field("sd-lora", {{"handover", "bogus"}});
    EXPECT_NE(err.find("method.options.handover"), std::string::npos) << err;
    EXPECT_NE(err.find("rescale, literal, released-code, exact"), std::string::npos) << err;
    err = config_error_field("sd-lora", {{"kd_tau", 1e-3}});  // a KD option on plain SD-LoRA
    EXPECT_NE(err.find("method.options.kd_tau"), std::string::npos) << err;
    err = config_error_field("sd-lora-kd", {{"kd_granularity", "layer"}});
    EXPECT_NE(err.find("global, per-matrix"), std::string::npos) << err;
    err = config_error_field("sd-lora-rr", {{"rank_schedule", {{1, 8}}}});
    EXPECT_NE(err.find("method.options.rank_schedule[0]"), std::string::npos) << err;
    err = config_error_field("sd-lora-rr", {{"rank_schedule", {{0, 8}, {0, 4}}}});
    EXPECT_NE(err.find("ascending"), std::string::npos) << err;
    err = config_error_field("sd-lora", {{"handover", "released-code"}, {"direction_norm", "product"}});
    EXPECT_NE(err.find("method.options.direction_norm"), std::string::npos) << err;
    err = config_error_field("sd-lora", {{"handover", "released-code"}, {"carry_magnitudes", true}});
    EXPECT_NE(err.find("method.options.carry_magnitudes"), std::string::npos) << err;
    EXPECT_EQ(config_error_field("sd-lora", {{"handover", "released-code"}, {"magnitude_init", 0.5}}), "");
    EXPECT_EQ(config_error_field("sd-lora-kd", {{"kd_tau", 1e-3}, {"kd_update", "paper"}}), "");
}

TEST(SDLoRA, VariantDefaults) {
    ExperimentConfig c;
    c.method.options = {{"handover", "released-code"}};
    auto released = SDLoRAOptions::from_config(c, SDLoRAVariant::plain);
    EXPECT_DOUBLE_EQ(released.magnitude_init, 0.8);
    EXPECT_FALSE(released.carry_magnitudes);
    EXPECT_EQ(released.direction_norm, DirectionNorm::factors);
    EXPECT_EQ(released.handover, SDLoRAHandover::released_code);
    c.method.options = nlohmann::json::object();
    auto rr = SDLoRAOptions::from_config(c, SDLoRAVariant::rank_reduction);
    std::vector<int> ranks;
    for (int t = 0; t < 10; ++t) ranks.push_back(rr.rank_for_task(t, 8));
    EXPECT_EQ(ranks, (std::vector<int>{10, 10, 10, 10, 8, 8, 8, 8, 6, 6}));
    EXPECT_EQ(SDLoRAOptions::from_config(c, SDLoRAVariant::plain).rank_for_task(9, 8), 8);
}

TEST(SDLoRA, OneMagnitudeTensorSharedByEveryAdaptedMatrixAndKUntouched) {
    Harness h("sd-lora");
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    m->begin_task(*h.ctx);
    auto terms = h.terms(0);
    ASSERT_EQ(terms.size(), 4u);  // q and v of 2 blocks
    for (auto* t : terms) EXPECT_TRUE(t->magnitude.is_same(terms[0]->magnitude));
    EXPECT_EQ(terms[0]->row_offset, 0);
    EXPECT_EQ(terms[1]->row_offset, 32);
    pretend_trained(h, 0, 1.0);
    auto qkv = h.model->lora_layers()[0].second;
    EXPECT_TRUE(torch::equal(qkv->merged_weight().slice(0, 16, 32), qkv->weight.detach().slice(0, 16, 32)));
    auto groups = m->parameter_groups(*h.ctx);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_EQ(groups[0].params.size(), 8u);  // A and B of 4 matrices
    ASSERT_EQ(groups[1].params.size(), 1u);
    EXPECT_EQ(groups[1].weight_decay, 0.0);
}

TEST(SDLoRA, HandOverNormalisesDirectionsAndRescalesTheMagnitude) {
    for (std::string handover : {"literal", "rescale"}) {
        Harness h("sd-lora", {{"handover", handover}});
        auto m = make_sd_lora(h.config);
        m->begin_run(*h.ctx);
        m->begin_task(*h.ctx);
        pretend_trained(h, 0, 1.5);
        std::vector<double> norms;
        for (auto* t : h.terms(0)) norms.push_back(t->B.detach().mm(t->A.detach()).norm().item<double>());
        m->end_task(*h.ctx);
        const double mean = (norms[0] + norms[1] + norms[2] + norms[3]) / 4.0;
        const double alpha = handover == "literal" ? 1.5 : 1.5 * mean;
        EXPECT_NEAR(m->magnitudes()[0], alpha, 1e-5 * alpha) << handover;
        for (auto* t : h.terms(0)) {
            EXPECT_FALSE(t->trainable_factors());
            EXPECT_NEAR(t->delta().norm().item<double>(), alpha, 1e-4 * alpha) << "α D with ‖D‖_F = 1";
        }
        EXPECT_EQ(h.phases, (std::vector<EvalPhase>{EvalPhase::before_handover, EvalPhase::after_handover}));
    }
}

TEST(SDLoRA, ExactHandOverKeepsEveryMatrixUpdateWhereRescaleDoesNot) {
    for (std::string handover : {"exact", "rescale"}) {
        Harness h("sd-lora", {{"handover", handover}}, /*rank*/ 4);
        h.config.method.alpha = 2.0;  // s = 0.5
        auto m = make_sd_lora(h.config);
        m->begin_run(*h.ctx);
        m->begin_task(*h.ctx);
        pretend_trained(h, 0, 1.3);
        auto terms = h.terms(0);
        {  // matrices of clearly different norms
            torch::NoGradGuard no_grad;
            for (size_t i = 0; i < terms.size(); ++i) terms[i]->B.mul_(1.0 + static_cast<double>(i));
        }
        std::vector<torch::Tensor> before;
        double mean = 0.0;
        for (auto* t : terms) {
            before.push_back(t->delta().detach().clone());
            mean += t->B.detach().mm(t->A.detach()).norm().item<double>() / static_cast<double>(terms.size());
        }
        m->end_task(*h.ctx);
        EXPECT_NEAR(m->magnitudes()[0], 1.3 * 0.5 * mean, 1e-5) << handover;
        double worst = 0.0;
        for (size_t i = 0; i < terms.size(); ++i)
            worst = std::max(worst, ((terms[i]->delta() - before[i]).norm() / before[i].norm()).item<double>());
        if (handover == "exact")
            EXPECT_LE(worst, 1e-5);
        else
            EXPECT_GE(worst, 0.2) << "rescale keeps only the mean norm";
    }
}

TEST(SDLoRA, ReleasedCodeResetsMagnitudesAndUsesFactorNorms) {
    Harness h("sd-lora", {{"handover", "released-code"}});
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    run_task(h, *m, 0, [&] { pretend_trained(h, 0, 1.7); });
    for (auto* t : h.terms(0))
        EXPECT_NEAR(t->scale, 1.0 / (t->B.norm().item<double>() * t->A.norm().item<double>()), 1e-6 * t->scale);
    run_task(h, *m, 1, [&] {
        EXPECT_NEAR(h.terms(1)[0]->magnitude.item<double>(), 0.8, 1e-7);
        pretend_trained(h, 1, 2.0);
    });
    auto alphas = m->magnitudes();
    ASSERT_EQ(alphas.size(), 2u);
    EXPECT_NEAR(alphas[0], 0.8, 1e-7);
    EXPECT_NEAR(alphas[1], 0.8, 1e-7);
}

TEST(SDLoRA, MergedInferenceMatchesUnmergedAfterSeveralTasks) {
    Harness h("sd-lora");
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    for (int t = 0; t < 4; ++t) run_task(h, *m, t, [&] { pretend_trained(h, t, 0.5 + 0.25 * t); });
    // The next task's fresh term (B = 0) is live too; move the old magnitudes as training would.
    h.ctx->task = 4;
    m->begin_task(*h.ctx);
    pretend_trained(h, 4, 0.9);
    auto x = torch::randn({6, 1, 28, 28});
    auto unmerged = h.features(x);
    m->merge_for_inference(*h.ctx);
    for (auto& [name, layer] : h.model->lora_layers()) EXPECT_TRUE(layer->terms().empty());
    auto merged = h.features(x);
    EXPECT_LE((merged - unmerged).norm().item<double>(), 1e-5 * unmerged.norm().item<double>());
}

TEST(SDLoRA, GradientReachesEveryLiveMagnitudeThroughTheFrozenFold) {
    Harness h("sd-lora");
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    for (int t = 0; t < 2; ++t) run_task(h, *m, t, [&] { pretend_trained(h, t, 1.0); });
    h.ctx->task = 2;
    m->begin_task(*h.ctx);
    auto groups = m->parameter_groups(*h.ctx);
    ASSERT_EQ(groups[1].params.size(), 3u);
    h.model->train();
    h.model->features(torch::randn({4, 1, 28, 28})).pow(2).sum().backward();
    for (int k = 0; k < 2; ++k) {
        ASSERT_TRUE(groups[1].params[k].grad().defined()) << "α_" << k;
        EXPECT_GT(groups[1].params[k].grad().abs().item<double>(), 0.0) << "α_" << k;
    }
}

TEST(SDLoRA, StepStateFollowsTheCadence) {
    Harness h("sd-lora", {{"state_every", 4}});
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    run_task(h, *m, 0, [&] { pretend_trained(h, 0, 1.0); });
    h.ctx->task = 1;
    m->begin_task(*h.ctx);
    pretend_trained(h, 1, 1.0);
    h.ctx->step = 3;
    EXPECT_TRUE(m->step_state(*h.ctx).empty());
    h.ctx->step = 8;
    auto s = m->step_state(*h.ctx);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].key, StateKey::magnitudes);
    EXPECT_EQ(s[0].values.numel(), 2);
    EXPECT_EQ(s[1].key, StateKey::direction_residual);
    // A random new direction is far from the single old one: relative residual near 1, never above.
    const double residual = s[1].values.item<double>();
    EXPECT_GT(residual, 0.5);
    EXPECT_LE(residual, 1.0 + 1e-9);
    // The device values are the host forms' numbers, bit for bit.
    EXPECT_EQ(residual, m->current_direction_residual());
    const auto magnitudes = m->magnitudes();
    for (int64_t k = 0; k < 2; ++k) EXPECT_EQ(s[0].values[k].item<double>(), magnitudes[k]);
}

TEST(SDLoRA, MergeInterpolationAfterTaskOneRestoresTheModel) {
    Harness h("sd-lora", {{"interpolation_points", 5}});
    int calls = 0;
    h.ctx->evaluate_tasks = [&](const std::vector<int>& tasks) {
        ++calls;
        std::vector<EvalRow> rows;
        for (int t : tasks) rows.push_back({1, t, 0, EvalPhase::end_of_task, HeadMode::class_il, 10 * calls + t, 100});
        return rows;
    };
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    run_task(h, *m, 0, [&] { pretend_trained(h, 0, 1.0); });
    run_task(h, *m, 1, [&] { pretend_trained(h, 1, 1.0); });
    EXPECT_EQ(calls, 5);
    ASSERT_EQ(h.events.size(), 1u);
    const auto& done = std::get<AnalysisDone>(h.events[0]);
    ASSERT_EQ(done.points.size(), 10u);
    EXPECT_EQ(done.points[0].analysis, AnalysisKey::merge_interpolation);
    EXPECT_EQ(done.points[1].series, SeriesKey::of_task(1));
    EXPECT_DOUBLE_EQ(done.points[2].x, 0.25);
    EXPECT_DOUBLE_EQ(done.points[3].y, 21.0);
    EXPECT_EQ(h.terms(0).size(), 4u);
    EXPECT_EQ(h.terms(1).size(), 4u);
}

// ---- SD-LoRA-KD ---------------------------------------------------------------------------------

TEST(SDLoRAKD, DirectionEqualToAnOldOneIsAbsorbedWithoutChangingTheOutput) {
    // Task 1's update is 3 × task 0's in every matrix: D_1 = D_0, β = (1), residual 0. KD drops
    // direction 1; the output must equal plain SD-LoRA's, which keeps it.
    auto x = torch::randn({5, 1, 28, 28});
    torch::Tensor reference, absorbed;
    for (std::string method : {"sd-lora", "sd-lora-kd"}) {
        Harness h(method);
        auto m = make_sd_lora(h.config);
        m->begin_run(*h.ctx);
        run_task(h, *m, 0, [&] { pretend_trained(h, 0, 1.2); });
        run_task(h, *m, 1, [&] {
            torch::NoGradGuard g;
            auto old = h.terms(0), cur = h.terms(1);
            for (size_t s = 0; s < cur.size(); ++s) {
                cur[s]->B.copy_(old[s]->B * 3.0);
                cur[s]->A.copy_(old[s]->A);
                cur[s]->magnitude.fill_(0.7);
            }
        });
        (method == "sd-lora" ? reference : absorbed) = h.features(x);
        if (method == "sd-lora-kd") {
            EXPECT_TRUE(m->last_handover_dropped());
            EXPECT_LT(m->last_handover_residual(), 1e-6);
            EXPECT_EQ(m->ranks(), (std::vector<double>{4, 0}));
            EXPECT_EQ(m->magnitudes()[1], 0.0);
            EXPECT_TRUE(h.terms(1).empty());
            EXPECT_EQ(m->parameter_groups(*h.ctx)[1].params.size(), 1u);
        }
    }
    EXPECT_LE((absorbed - reference).norm().item<double>(), 1e-5 * reference.norm().item<double>());
}

TEST(SDLoRAKD, PerMatrixFitAbsorbsAMatrixWiseCombination) {
    // Task 2 (rank 4) in matrix s is a_s D_0,s + b_s D_1,s with coefficients that differ per matrix:
    // only the per-matrix fit reproduces it; the output must equal plain SD-LoRA's.
    auto x = torch::randn({5, 1, 28, 28});
    torch::Tensor reference, absorbed;
    const nlohmann::json schedule = {{0, 2}, {2, 4}};
    for (std::string method : {"sd-lora", "sd-lora-kd"}) {
        nlohmann::json options = {{"rank_schedule", schedule}};
        if (method == "sd-lora-kd") options["kd_granularity"] = "per-matrix";
        Harness h(method, options, 2);
        auto m = make_sd_lora(h.config);
        m->begin_run(*h.ctx);
        run_task(h, *m, 0, [&] { pretend_trained(h, 0, 1.1); });
        run_task(h, *m, 1, [&] { pretend_trained(h, 1, 0.9); });
        run_task(h, *m, 2, [&] {
            torch::NoGradGuard g;
            auto d0 = h.terms(0), d1 = h.terms(1), cur = h.terms(2);
            for (size_t s = 0; s < cur.size(); ++s) {
                const double a = 0.5 + 0.3 * s, b = -1.0 + 0.4 * s;
                cur[s]->B.copy_(torch::cat({d0[s]->B * (a * d0[s]->scale), d1[s]->B * (b * d1[s]->scale)}, 1));
                cur[s]->A.copy_(torch::cat({d0[s]->A, d1[s]->A}, 0));
            }
        });
        (method == "sd-lora" ? reference : absorbed) = h.features(x);
        if (method == "sd-lora-kd") {
            EXPECT_TRUE(m->last_handover_dropped());
            EXPECT_EQ(m->ranks(), (std::vector<double>{2, 2, 0}));
        }
    }
    EXPECT_LE((absorbed - reference).norm().item<double>(), 1e-5 * reference.norm().item<double>());
}

TEST(SDLoRAKD, OrthogonalDirectionIsKept) {
    Harness h("sd-lora-kd");
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    run_task(h, *m, 0, [&] { pretend_trained(h, 0, 1.0); });
    run_task(h, *m, 1, [&] {
        // A_1's rows orthogonal to A_0's in every matrix: <D_0, D_1>_F = 0, β = 0, relative residual 1.
        torch::NoGradGuard g;
        auto old = h.terms(0), cur = h.terms(1);
        for (size_t s = 0; s < cur.size(); ++s) {
            auto q = std::get<0>(torch::linalg_qr(torch::randn({16, 8}), "reduced"));  // [16, 8]
            old[s]->A.copy_(q.slice(1, 0, 4).t());
            cur[s]->A.copy_(q.slice(1, 4, 8).t());
            cur[s]->B.copy_(torch::randn_like(cur[s]->B));
        }
    });
    EXPECT_FALSE(m->last_handover_dropped());
    EXPECT_NEAR(m->last_handover_residual(), 1.0, 1e-5);
    EXPECT_EQ(m->ranks(), (std::vector<double>{4, 4}));
    EXPECT_EQ(h.terms(1).size(), 4u);
}

// Real AdamW steps on tasks 0–2: after every step each adapted layer's training-mode output equals a
// dense recomputation from independently kept copies, W0 + Σ_{k<t} α_k B_k A_k / ‖B_k A_k‖_F + α_t s B_t A_t;
// W0 and the old factors never move, and the current B starts at 0 with a fresh A.
TEST(SDLoRA, TrainingForwardMatchesADenseRecomputationAcrossStepsAndHandOvers) {
    Harness h("sd-lora", nlohmann::json::object(), /*rank*/ 4);
    h.config.method.alpha = 2.0;  // s = 0.5, so a wrong scale on the current term shows
    auto m = make_sd_lora(h.config);
    m->begin_run(*h.ctx);
    auto layers = h.model->lora_layers();
    std::vector<torch::Tensor> w0;
    for (auto& [name, layer] : layers) w0.push_back(layer->weight.detach().clone());
    struct Kept {
        int task;
        int64_t row_offset;
        torch::Tensor A, B;
    };
    std::vector<std::vector<Kept>> kept(layers.size());  // per layer, finished terms
    std::vector<torch::Tensor> previous_A;
    const double s = 0.5;
    for (int t = 0; t < 3; ++t) {
        h.ctx->task = t;
        m->begin_task(*h.ctx);
        for (auto* term : h.terms(t)) {
            EXPECT_EQ(term->B.abs().max().item<double>(), 0.0) << "B_t starts at 0";
            EXPECT_DOUBLE_EQ(term->scale, s);
            for (auto& a : previous_A) EXPECT_FALSE(term->A.is_same(a)) << "A re-used across tasks";
        }
        auto groups = m->parameter_groups(*h.ctx);
        OptimizerConfig oc;
        oc.name = OptimizerAlgorithm::adamw;
        oc.lr = 0.05;
        oc.weight_decay = 0.0;
        TaskOptimizer opt = make_optimizer(oc, groups);
        h.model->train();
        for (int step = 0; step < 6; ++step) {
            opt.optimizer->zero_grad();
            h.model->features(torch::randn({4, 1, 28, 28})).sin().sum().backward();
            opt.optimizer->step();
            auto alphas = m->magnitudes();
            torch::NoGradGuard no_grad;
            for (size_t l = 0; l < layers.size(); ++l) {
                auto& layer = layers[l].second;
                EXPECT_TRUE(torch::equal(layer->weight.detach(), w0[l])) << "W0 moved";
                torch::Tensor w = w0[l].clone();
                for (auto& k : kept[l]) {
                    torch::Tensor ba = k.B.mm(k.A);
                    w.slice(0, k.row_offset, k.row_offset + ba.size(0)) += alphas[k.task] * ba / ba.norm();
                }
                for (auto& term : layer->terms()) {
                    if (term.tag != "sd-lora-task" + std::to_string(t)) continue;
                    w.slice(0, term.row_offset, term.row_offset + term.rows()) += alphas[t] * s * term.B.mm(term.A);
                    for (auto& k : kept[l])
                        if (k.row_offset == term.row_offset) EXPECT_FALSE(term.A.is_same(k.A));
                }
                for (auto& term : layer->terms())
                    for (auto& k : kept[l])
                        if (term.tag == "sd-lora-task" + std::to_string(k.task) && term.row_offset == k.row_offset) {
                            EXPECT_TRUE(torch::equal(term.A, k.A)) << "old A moved";
                            EXPECT_TRUE(torch::equal(term.B, k.B)) << "old B moved";
                        }
                auto x_tokens = torch::randn({3, 5, layer->options.in_features()});
                auto expected = torch::nn::functional::linear(x_tokens, w, layer->bias);
                auto got = layer->forward(x_tokens);
                EXPECT_LE((got - expected).abs().max().item<double>(),
                          1e-5 * (1.0 + expected.abs().max().item<double>()))
                    << "layer " << l << " task " << t << " step " << step;
            }
        }
        m->end_task(*h.ctx);
        for (size_t l = 0; l < layers.size(); ++l)
            for (auto& term : layers[l].second->terms())
                if (term.tag == "sd-lora-task" + std::to_string(t))
                    kept[l].push_back({t, term.row_offset, term.A.detach().clone(), term.B.detach().clone()});
        for (auto* term : h.terms(t)) previous_A.push_back(term->A);
    }
}
