// Every method's save_state / restore_state (AdapterMethod, the state a resumed run continues from):
// a method trained through tasks 0..k−1 and then task k, against a fresh method given the first one's
// state after task k−1 (and its backbone and heads) and then the same task k with the same random
// draws: the losses of every step, every adapted layer's merged weight, the heads and the state saved
// after task k are equal bit for bit. A method given the same state off by 1e-3 does not match (the
// test sees an inexact restore).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "engine/methods/method_registry.h"
#include "engine/train/optimizer_factory.h"
#include "tests/support/method_bench.h"

using namespace lorica;

namespace {

// Rank 3 on q and v (tests/support/method_bench.h).
ExperimentConfig method_config(const std::string& name, nlohmann::json options = nlohmann::json::object()) {
    return lorica::testing::method_bench_config(name, 3, {"q", "v"}, std::move(options));
}

struct Bench : lorica::testing::MethodBench {
    explicit Bench(const ExperimentConfig& c) : MethodBench(c, 21, 3) {}

    // Task t as the trainer runs it (every pass with a fresh optimizer), the losses of its steps.
    std::vector<double> run_task(AdapterMethod& m, int t, int steps = 6) {
        start_task(m, t);
        std::vector<double> losses;
        for (int pass = 0; pass < std::max(1, m.passes_per_task()); ++pass) {
            m.begin_pass(*ctx, pass);
            auto groups = m.parameter_groups(*ctx);
            groups.push_back({"heads", heads->parameters_of({heads->size() - 1}), 1e-2, 0.01});
            for (auto& p : groups.back().params) p.set_requires_grad(true);
            TaskOptimizer opt = make_optimizer(config.train.optimizer, groups);
            for (int s = 0; s < steps; ++s) {
                auto x = torch::randn({16, 1, 8, 8});
                auto y = torch::randint(0, 2, {16});
                m.before_step(*ctx);
                opt.optimizer->zero_grad();
                auto loss =
                    torch::nn::functional::cross_entropy(heads->logits_of(model->features(x), heads->size() - 1), y);
                losses.push_back(loss.item<double>());
                loss.backward();
                m.after_backward(*ctx);
                opt.optimizer->step();
                m.after_step(*ctx);
            }
        }
        m.end_task(*ctx);
        return losses;
    }

    // W + Σ ΔW of every adapted layer, and every head parameter.
    std::map<std::string, torch::Tensor> merged() {
        std::map<std::string, torch::Tensor> out;
        for (auto& [name, layer] : model->lora_layers()) out[name] = layer->merged_weight();
        for (const auto& p : heads->named_parameters()) out["heads." + p.key()] = p.value().detach().clone();
        return out;
    }
};

// The method's adapter set (what export and the checkpoints write) as named tensors.
std::map<std::string, torch::Tensor> adapter_tensors(const AdapterMethod& m, const MethodContext& ctx) {
    std::map<std::string, torch::Tensor> out;
    const AdapterSet set = m.adapter_set(ctx);
    for (size_t i = 0; i < set.terms.size(); ++i) {
        const AdapterTerm& t = set.terms[i];
        const std::string key = std::to_string(i) + "." + t.module + "." + std::to_string(t.row_offset) + "." + t.tag +
                                "." + std::to_string(t.task) + ".";
        out[key + "A"] = t.A;
        out[key + "B"] = t.B * t.scale;
    }
    return out;
}

// `to`'s backbone and heads become `from`'s (what the checkpoint's files carry).
void copy_weights(Bench& from, Bench& to) {
    torch::NoGradGuard no_grad;
    auto src = from.model->named_parameters();
    for (auto& p : to.model->named_parameters()) p.value().copy_(*src.find(p.key()));
    for (int h = 0; h < from.heads->size(); ++h) {
        to.heads->add_head(from.heads->classes(h), 0, torch::kCPU);
        to.heads->head(h)->weight.copy_(from.heads->head(h)->weight);
        to.heads->head(h)->bias.copy_(from.heads->head(h)->bias);
    }
}

bool same_tensors(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b,
                  std::string* differs) {
    if (a.size() != b.size()) {
        *differs = "sizes " + std::to_string(a.size()) + " vs " + std::to_string(b.size());
        return false;
    }
    for (const auto& [name, t] : a) {
        auto it = b.find(name);
        if (it == b.end() || t.sizes() != it->second.sizes() || t.scalar_type() != it->second.scalar_type() ||
            !torch::equal(t, it->second)) {
            *differs = name;
            return false;
        }
    }
    return true;
}

// Trains `tasks_before` tasks, then compares task `tasks_before` of the continued method with that of
// a restored one (and of an unrestored one, which must differ).
void expect_round_trip(const ExperimentConfig& config, int tasks_before) {
    SCOPED_TRACE(config.method.name + " " + config.method.options.dump());
    Bench original(config);
    auto method = make_method(config);
    method->begin_run(*original.ctx);
    for (int t = 0; t < tasks_before; ++t) {
        original.ctx->task = t;
        original.run_task(*method, t);
    }
    original.ctx->task = tasks_before - 1;
    const StateSnapshot saved = method->save_state(*original.ctx);

    Bench restored(config);
    copy_weights(original, restored);
    auto fresh = make_method(config);
    fresh->begin_run(*restored.ctx);
    fresh->restore_state(*restored.ctx, saved);
    restored.ctx->task = tasks_before - 1;
    std::string differs;
    EXPECT_TRUE(same_tensors(original.merged(), restored.merged(), &differs)) << "after restore: " << differs;

    // The control: the same state with every float tensor off by 1e-3 relative (a state not restored exactly).
    StateSnapshot perturbed = saved;
    for (auto& [name, t] : perturbed.tensors)
        if (t.is_floating_point()) t = t * 1.001f;
    Bench unrestored(config);
    copy_weights(original, unrestored);
    auto plain = make_method(config);
    plain->begin_run(*unrestored.ctx);
    plain->restore_state(*unrestored.ctx, perturbed);

    torch::manual_seed(99);
    const auto losses = original.run_task(*method, tasks_before);
    torch::manual_seed(99);
    const auto restored_losses = restored.run_task(*fresh, tasks_before);
    torch::manual_seed(99);
    const auto plain_losses = unrestored.run_task(*plain, tasks_before);

    EXPECT_EQ(losses, restored_losses);
    EXPECT_TRUE(same_tensors(original.merged(), restored.merged(), &differs)) << "after the next task: " << differs;
    const StateSnapshot next = method->save_state(*original.ctx);
    const StateSnapshot restored_next = fresh->save_state(*restored.ctx);
    EXPECT_EQ(next.meta, restored_next.meta);
    EXPECT_TRUE(same_tensors(next.tensors, restored_next.tensors, &differs))
        << "state after the next task: " << differs;
    EXPECT_TRUE(same_tensors(adapter_tensors(*method, *original.ctx), adapter_tensors(*fresh, *restored.ctx), &differs))
        << "adapter set after the next task: " << differs;
    const bool has_state = !saved.tensors.empty();
    if (has_state) {
        const bool plain_same =
            plain_losses == losses && same_tensors(original.merged(), unrestored.merged(), &differs) &&
            plain->save_state(*unrestored.ctx).meta == next.meta &&
            same_tensors(adapter_tensors(*method, *original.ctx), adapter_tensors(*plain, *unrestored.ctx), &differs);
        EXPECT_FALSE(plain_same) << "a slightly different state trains the same: the test would not see a lost state";
    }
}

}  // namespace

TEST(MethodStateRoundTrip, SequentialLoRA) { expect_round_trip(method_config("sequential-lora"), 1); }
TEST(MethodStateRoundTrip, SequentialLoRAAfterTwoTasks) { expect_round_trip(method_config("sequential-lora"), 2); }
TEST(MethodStateRoundTrip, FullFinetune) { expect_round_trip(method_config("full-finetune"), 1); }
TEST(MethodStateRoundTrip, FrozenBackbone) { expect_round_trip(method_config("frozen-backbone"), 1); }
TEST(MethodStateRoundTrip, SDLoRA) { expect_round_trip(method_config("sd-lora"), 1); }
TEST(MethodStateRoundTrip, SDLoRAAfterTwoTasks) { expect_round_trip(method_config("sd-lora"), 2); }
TEST(MethodStateRoundTrip, SDLoRAReleasedCode) {
    expect_round_trip(method_config("sd-lora", {{"handover", "released-code"}}), 2);
}
TEST(MethodStateRoundTrip, SDLoRAMatrixBeforeHandover) {
    expect_round_trip(method_config("sd-lora", {{"handover", "released-code"}, {"accuracy_matrix", "before-handover"}}),
                      2);
}
TEST(MethodStateRoundTrip, SDLoRAAblationFirstDirectionOnly) {
    expect_round_trip(method_config("sd-lora", {{"ablation", "first-direction-only"}}), 2);
}
TEST(MethodStateRoundTrip, SDLoRAAblationSingleDecoupled) {
    expect_round_trip(method_config("sd-lora", {{"ablation", "single-decoupled"}}), 2);
}
TEST(MethodStateRoundTrip, SDLoRAAblationSingleDecoupledReleasedCode) {
    expect_round_trip(method_config("sd-lora", {{"ablation", "single-decoupled"}, {"handover", "released-code"}}), 3);
}
TEST(MethodStateRoundTrip, SDLoRAAblationOldMagnitudesFixed) {
    expect_round_trip(method_config("sd-lora", {{"ablation", "old-magnitudes-fixed"}}), 2);
}
TEST(MethodStateRoundTrip, SDLoRARankReduction) {
    expect_round_trip(method_config("sd-lora-rr", {{"rank_schedule", {{0, 3}, {1, 2}}}}), 2);
}
TEST(MethodStateRoundTrip, SDLoRAKnowledgeDistillationPerMatrix) {
    // A large tau drops every new direction: the restored method must know which ones are gone.
    expect_round_trip(method_config("sd-lora-kd", {{"kd_tau", 10.0}, {"kd_granularity", "per-matrix"}}), 2);
}
TEST(MethodStateRoundTrip, LoRIDense) { expect_round_trip(method_config("lori-d"), 1); }
TEST(MethodStateRoundTrip, LoRISparse) { expect_round_trip(method_config("lori-s"), 2); }
TEST(MethodStateRoundTrip, LoRIMerge) { expect_round_trip(method_config("lori-merge"), 2); }
TEST(MethodStateRoundTrip, LoRIMergeSparseLinear) {
    expect_round_trip(method_config("lori-merge", {{"variant", "s"}, {"merge", "linear"}}), 2);
}
TEST(MethodStateRoundTrip, MergedLoRA) { expect_round_trip(method_config("merged-lora"), 2); }
TEST(MethodStateRoundTrip, MergedLoRADrop) {
    expect_round_trip(method_config("merged-lora", {{"after_task", "drop"}}), 1);
}
TEST(MethodStateRoundTrip, MergedLoRAFullUpdate) { expect_round_trip(method_config("merged-lora-ft"), 1); }

TEST(MethodStateRoundTrip, RestoreRefusesAStateOfAnotherModel) {
    ExperimentConfig config = method_config("sequential-lora");
    Bench a(config);
    auto method = make_method(config);
    method->begin_run(*a.ctx);
    StateSnapshot state = method->save_state(*a.ctx);
    state.tensors["A.0"] = torch::zeros({5, 7});
    Bench b(config);
    auto fresh = make_method(config);
    fresh->begin_run(*b.ctx);
    try {
        fresh->restore_state(*b.ctx, state);
        FAIL() << "a misshapen factor was accepted";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("A.0"), std::string::npos) << e.what();
    }
}
