// SD-LoRA's ablations (method.options.ablation, the paper's Table 4) and where its accuracy matrix is
// measured (method.options.accuracy_matrix), each by its defining property, trained with the
// trainer's own step (train_step: before_step, forward, backward, optimizer step, after_step):
//   first-direction-only  after task 0 one direction only; its factors frozen, only α_0 (and the head)
//                         get gradients and move
//   single-decoupled      one direction; W = W0 + α · B A / ‖B A‖_F per matrix through every task; B, A
//                         and α train, the norm inside the graph (the loss is invariant to B → cB)
//   old-magnitudes-fixed  every finished α_k is exactly 1.0 and leaves the optimizer; the newest trains
//   accuracy_matrix       before-handover records end_of_task before the hand-over (learned
//                         magnitudes), after_handover after it (reset magnitudes)
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/data/stream_data.h"
#include "engine/methods/method_registry.h"
#include "engine/methods/sd_lora.h"
#include "engine/train/stream_trainer.h"
#include "tests/support/method_bench.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::MethodBench;

namespace {

ExperimentConfig ablation_config(const std::string& ablation, nlohmann::json extra = nlohmann::json::object()) {
    extra["ablation"] = ablation;
    return lorica::testing::method_bench_config("sd-lora", 3, {"q", "v"}, std::move(extra));
}

std::unique_ptr<SDLoRA> make_sd_lora(const ExperimentConfig& config) {
    auto method = make_method(config);
    auto* raw = dynamic_cast<SDLoRA*>(method.release());
    EXPECT_NE(raw, nullptr);
    return std::unique_ptr<SDLoRA>(raw);
}

// Every term of every adapted layer, with its layer (q before v in each block).
std::vector<std::pair<LoRALinear, LowRankTerm*>> all_terms(MethodBench& b) {
    std::vector<std::pair<LoRALinear, LowRankTerm*>> out;
    for (auto& [name, layer] : b.model->lora_layers())
        for (auto& term : layer->terms()) out.emplace_back(layer, &term);
    return out;
}

// One task as the trainer runs it: head, begin_task, `steps` train_steps, end_task.
void run_task(MethodBench& b, AdapterMethod& m, int t, int steps = 6) {
    b.start_task(m, t);
    b.train(m, steps);
    m.end_task(*b.ctx);
}

// The loss of one random batch on the current head, backward: the gradients of this batch alone are
// left in place (those left from earlier steps are cleared first).
void forward_backward(MethodBench& b, AdapterMethod& m) {
    for (auto& [layer, term] : all_terms(b)) {
        term->A.mutable_grad().reset();
        term->B.mutable_grad().reset();
    }
    for (auto& g : m.parameter_groups(*b.ctx))
        for (auto& p : g.params) p.mutable_grad().reset();
    m.before_step(*b.ctx);
    auto x = torch::randn({16, 1, 8, 8});
    auto y = torch::randint(0, 2, {16});
    auto loss = torch::nn::functional::cross_entropy(b.heads->logits_of(b.model->features(x), b.heads->size() - 1), y);
    loss.backward();
}

std::string config_error_field(const std::string& method, const nlohmann::json& options) {
    ExperimentConfig c;
    c.method.name = method;
    c.method.options = options;
    try {
        make_method(c);
    } catch (const ConfigError& e) {
        return e.field();
    }
    return "";
}

}  // namespace

TEST(SDLoRAAblation, OnlyPlainSDLoRADeclaresItAndContradictionsAreRefused) {
    EXPECT_EQ(config_error_field("sd-lora", {{"ablation", "single-decoupled"}}), "");
    EXPECT_EQ(config_error_field("sd-lora", {{"ablation", "bogus"}}), "method.options.ablation");
    EXPECT_EQ(config_error_field("sd-lora-rr", {{"ablation", "none"}}), "method.options.ablation");
    EXPECT_EQ(config_error_field("sd-lora-kd", {{"ablation", "first-direction-only"}}), "method.options.ablation");
    EXPECT_EQ(
        config_error_field("sd-lora", {{"ablation", "first-direction-only"}, {"rank_schedule", {{0, 4}, {2, 2}}}}),
        "method.options.rank_schedule");
    EXPECT_EQ(
        config_error_field("sd-lora", {{"ablation", "old-magnitudes-fixed"}, {"rank_schedule", {{0, 4}, {2, 2}}}}), "");
    EXPECT_EQ(config_error_field("sd-lora", {{"ablation", "single-decoupled"}, {"handover", "exact"}}),
              "method.options.handover");
    EXPECT_EQ(config_error_field("sd-lora-kd", {{"accuracy_matrix", "before-handover"}}), "");
    EXPECT_EQ(config_error_field("sd-lora", {{"accuracy_matrix", "after"}}), "method.options.accuracy_matrix");
}

TEST(SDLoRAAblation, FirstDirectionOnlyTrainsOnlyTheFirstMagnitudeAfterTaskZero) {
    MethodBench b(ablation_config("first-direction-only"), 21, 3);
    auto m = make_sd_lora(b.config);
    m->begin_run(*b.ctx);
    run_task(b, *m, 0);
    const auto after0 = all_terms(b);
    ASSERT_EQ(after0.size(), 4u);  // q and v of 2 blocks: one direction
    std::vector<torch::Tensor> A0, B0;
    for (auto& [layer, term] : after0) {
        A0.push_back(term->A.detach().clone());
        B0.push_back(term->B.detach().clone());
    }
    const double alpha0 = m->magnitudes()[0];

    b.start_task(*m, 1);
    ASSERT_EQ(all_terms(b).size(), 4u) << "no new direction";
    auto groups = m->parameter_groups(*b.ctx);
    ASSERT_EQ(groups.size(), 2u);
    EXPECT_TRUE(groups[0].params.empty()) << "no factors train";
    ASSERT_EQ(groups[1].params.size(), 1u);
    EXPECT_TRUE(groups[1].params[0].is_same(all_terms(b)[0].second->magnitude)) << "α_0 trains";

    // Gradients: α_0 gets one, the factors none.
    forward_backward(b, *m);
    for (auto& [layer, term] : all_terms(b)) {
        EXPECT_FALSE(term->A.grad().defined());
        EXPECT_FALSE(term->B.grad().defined());
    }
    const torch::Tensor alpha_grad = groups[1].params[0].grad();
    ASSERT_TRUE(alpha_grad.defined());
    EXPECT_NE(alpha_grad.item<double>(), 0.0);
    groups[1].params[0].mutable_grad().reset();

    b.train(*m, 6);
    m->end_task(*b.ctx);
    run_task(b, *m, 2);
    const auto terms = all_terms(b);
    ASSERT_EQ(terms.size(), 4u);
    for (size_t i = 0; i < terms.size(); ++i) {
        EXPECT_TRUE(torch::equal(terms[i].second->A, A0[i]));
        EXPECT_TRUE(torch::equal(terms[i].second->B, B0[i]));
    }
    ASSERT_EQ(m->magnitudes().size(), 1u);
    EXPECT_NE(m->magnitudes()[0], alpha0) << "α_0 trained on tasks 1 and 2";
}

TEST(SDLoRAAblation, SingleDecoupledTrainsOneNormalisedDirectionThroughEveryTask) {
    MethodBench b(ablation_config("single-decoupled"), 21, 3);
    auto m = make_sd_lora(b.config);
    m->begin_run(*b.ctx);
    run_task(b, *m, 0);
    for (int t = 1; t < 3; ++t) {
        SCOPED_TRACE("task " + std::to_string(t));
        b.start_task(*m, t);
        const auto terms = all_terms(b);
        ASSERT_EQ(terms.size(), 4u) << "one direction";
        std::vector<torch::Tensor> A_before, B_before;
        for (auto& [layer, term] : terms) {
            A_before.push_back(term->A.detach().clone());
            B_before.push_back(term->B.detach().clone());
        }
        const double alpha_before = m->magnitudes()[0];

        // W = W0 + α · B A / ‖B A‖_F in every adapted matrix, in the training form.
        forward_backward(b, *m);
        for (auto& [layer, term] : terms) {
            const torch::Tensor BA = term->B.detach().mm(term->A.detach());
            const torch::Tensor expected = alpha_before * BA / BA.norm();
            const torch::Tensor delta = (layer->merged_weight() - layer->weight.detach())
                                            .slice(0, term->row_offset, term->row_offset + term->rows());
            EXPECT_LE((delta - expected).norm().item<double>(), 1e-5 * expected.norm().item<double>());
            // B, A (and α) get gradients, and through the norm: the loss does not change along B → cB
            // or A → cA, so ⟨∂L/∂B, B⟩ = ⟨∂L/∂A, A⟩ = 0.
            ASSERT_TRUE(term->A.grad().defined());
            ASSERT_TRUE(term->B.grad().defined());
            const double gB = term->B.grad().norm().item<double>(), gA = term->A.grad().norm().item<double>();
            EXPECT_GT(gB, 0.0);
            EXPECT_GT(gA, 0.0);
            EXPECT_LE(std::abs((term->B.grad() * term->B).sum().item<double>()),
                      1e-4 * gB * term->B.norm().item<double>());
            EXPECT_LE(std::abs((term->A.grad() * term->A).sum().item<double>()),
                      1e-4 * gA * term->A.norm().item<double>());
        }
        auto groups = m->parameter_groups(*b.ctx);
        ASSERT_EQ(groups[0].params.size(), 8u);  // A and B of 4 matrices
        ASSERT_EQ(groups[1].params.size(), 1u);
        ASSERT_TRUE(groups[1].params[0].grad().defined());
        for (auto& g : groups)
            for (auto& p : g.params) p.mutable_grad().reset();

        b.train(*m, 6);
        m->end_task(*b.ctx);
        ASSERT_EQ(all_terms(b).size(), 4u);
        bool factors_moved = false;
        const double alpha = m->magnitudes()[0];
        EXPECT_NE(alpha, alpha_before) << "α trained";
        for (size_t i = 0; i < terms.size(); ++i) {
            const LowRankTerm* term = terms[i].second;
            factors_moved = factors_moved || !torch::equal(term->A, A_before[i]) || !torch::equal(term->B, B_before[i]);
            // The closed form after the task: frozen factors, ‖α D‖_F = α in every matrix.
            EXPECT_FALSE(term->trainable_factors());
            EXPECT_NEAR(term->delta().norm().item<double>(), alpha, 1e-5 * std::abs(alpha));
        }
        EXPECT_TRUE(factors_moved) << "B and A trained";
    }
}

TEST(SDLoRAAblation, OldMagnitudesFixedHoldsFinishedDirectionsAtOne) {
    MethodBench b(ablation_config("old-magnitudes-fixed"), 21, 3);
    auto m = make_sd_lora(b.config);
    m->begin_run(*b.ctx);
    for (int t = 0; t < 3; ++t) {
        SCOPED_TRACE("task " + std::to_string(t));
        b.start_task(*m, t);
        auto groups = m->parameter_groups(*b.ctx);
        ASSERT_EQ(groups[1].params.size(), 1u) << "only the newest magnitude trains";
        const double newest_start = m->magnitudes()[t];
        b.train(*m, 6);
        const auto during = m->magnitudes();
        for (int k = 0; k < t; ++k) EXPECT_EQ(during[k], 1.0) << "old α_" << k << " after training";
        EXPECT_NE(during[t], newest_start) << "the newest α trains";
        m->end_task(*b.ctx);
        const auto after = m->magnitudes();
        for (int k = 0; k <= t; ++k) EXPECT_EQ(after[k], 1.0) << "α_" << k << " after the hand-over";
    }
    EXPECT_EQ(all_terms(b).size(), 12u) << "a direction per task";
}

TEST(SDLoRAAccuracyMatrix, BeforeHandoverMeasuresTheMatrixBeforeTheHandOver) {
    for (const std::string phase : {"after-handover", "before-handover"}) {
        SCOPED_TRACE(phase);
        MethodBench b(lorica::testing::method_bench_config("sd-lora", 3, {"q", "v"},
                                                           {{"handover", "released-code"}, {"accuracy_matrix", phase}}),
                      21, 3);
        auto m = make_sd_lora(b.config);
        std::vector<std::pair<EvalPhase, double>> seen;  // phase and α_0 when measured
        b.ctx->evaluate_seen = [&](EvalPhase p) { seen.emplace_back(p, m->magnitudes()[0]); };
        m->begin_run(*b.ctx);
        b.start_task(*m, 0);
        b.train(*m, 6);
        const double trained = m->magnitudes()[0];
        ASSERT_NE(trained, 0.8);
        m->end_task(*b.ctx);
        ASSERT_EQ(seen.size(), 2u);
        const bool before = phase == "before-handover";
        EXPECT_EQ(m->evaluates_end_of_task(), before);
        EXPECT_EQ(seen[0].first, before ? EvalPhase::end_of_task : EvalPhase::before_handover);
        EXPECT_EQ(seen[0].second, trained) << "right after training";
        EXPECT_EQ(seen[1].first, EvalPhase::after_handover);
        EXPECT_NEAR(seen[1].second, 0.8, 1e-7) << "after the hand-over's reset";
    }
}

// The trainer takes the method's rows as the matrix: with before-handover every task has exactly one
// end_of_task evaluation, recorded before its after_handover one (and no before_handover rows); with
// after-handover the trainer's end_of_task evaluation follows the method's two.
TEST(SDLoRAAccuracyMatrix, TheTrainerRecordsOneMatrixRowPerTaskWhereTheMethodSays) {
    RawDataset raw;
    raw.name = "synthetic";
    raw.num_classes = 4;
    raw.channels = 1;
    torch::manual_seed(11);
    raw.train_images = torch::randint(0, 256, {40, 1, 8, 8}, torch::kUInt8);
    raw.train_labels = torch::arange(40, torch::kInt64).remainder(4);
    raw.test_images = torch::randint(0, 256, {12, 1, 8, 8}, torch::kUInt8);
    raw.test_labels = torch::arange(12, torch::kInt64).remainder(4);
    for (int c = 0; c < 4; ++c) raw.class_names.push_back("c" + std::to_string(c));
    for (const std::string phase : {"after-handover", "before-handover"}) {
        SCOPED_TRACE(phase);
        lorica::testing::TempDir cache("sd-lora-matrix");
        ExperimentConfig config;
        config.device = "cpu";
        config.cache_dir = cache.path.string();
        config.backbone.image_size = 8;
        config.backbone.patch_size = 4;
        config.backbone.dim = 16;
        config.backbone.depth = 1;
        config.backbone.heads = 2;
        config.foundation.enabled = false;
        config.eval.random_init = false;
        config.eval.before_task = false;
        config.stream.tasks = 2;
        config.stream.classes_per_task = 2;
        config.data.train_per_class = 8;
        config.data.test_per_class = 2;
        config.train.batch_size = 8;
        config.train.epochs = 1;
        config.train.max_steps_per_task = 2;
        config.train.head_init = HeadInit::kaiming_uniform;
        config.method.name = "sd-lora";
        config.method.rank = 2;
        config.method.alpha = 2.0;
        config.method.options = {{"handover", "released-code"}, {"accuracy_matrix", phase}};

        struct Phases : EventListener {
            std::vector<std::pair<int, EvalPhase>> evaluations;  // after_task, phase of each stream evaluation
            void on_event(const Event& event) override {
                if (const auto* done = std::get_if<EvaluationDone>(&event))
                    for (const EvalRow& row : done->rows)
                        if (row.eval_task == 0 && row.head_mode == HeadMode::class_il) {
                            evaluations.emplace_back(row.after_task, row.phase);
                            break;
                        }
            }
        } listener;
        CancelToken cancel;
        ASSERT_EQ(run_stream({config, raw, 0, 3}, listener, cancel), RunStatus::finished);
        std::vector<std::pair<int, EvalPhase>> expected;
        for (int t = 0; t < 2; ++t) {
            if (phase == "before-handover") {
                expected.emplace_back(t, EvalPhase::end_of_task);
                expected.emplace_back(t, EvalPhase::after_handover);
            } else {
                expected.emplace_back(t, EvalPhase::before_handover);
                expected.emplace_back(t, EvalPhase::after_handover);
                expected.emplace_back(t, EvalPhase::end_of_task);
            }
        }
        EXPECT_EQ(listener.evaluations, expected);
    }
}
