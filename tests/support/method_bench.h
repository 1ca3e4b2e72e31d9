#pragma once
// A method under test without the trainer: a 2-block ViT of width kMethodBenchDim on 8×8 one-channel
// images, its stream heads, a MethodContext, and the per-task calls the trainer would make
// (add the task's 2-class head, begin_task, then the trainer's own task set-up and steps on random
// data: prepare_task, make_pass_optimizer, train_step).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "engine/methods/adapter_method.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"

namespace lorica::testing {

inline constexpr int64_t kMethodBenchDim = 16;

// The config a method test trains with: method `name` with `options` (null = none) at rank `rank`
// with alpha = rank (LoRA scale α/r = 1) on `targets`; the optimizer's lr 1e-2 and weight decay
// 0.01, every other field its default.
inline ExperimentConfig method_bench_config(const std::string& name, int rank, std::vector<std::string> targets,
                                            nlohmann::json options = nlohmann::json::object()) {
    ExperimentConfig c;
    c.method.name = name;
    c.method.rank = rank;
    c.method.alpha = static_cast<double>(rank);
    c.method.targets = std::move(targets);
    c.method.options = options.is_null() ? nlohmann::json::object() : std::move(options);
    c.train.optimizer.lr = 1e-2;
    c.train.optimizer.weight_decay = 0.01;
    return c;
}

struct MethodBench {
    ExperimentConfig config;
    VisionTransformer model{nullptr};
    TaskHeads heads{nullptr};
    std::unique_ptr<MethodContext> ctx;

    // `torch_seed` seeds the model's init; the context says `num_tasks` tasks and run seed 7.
    MethodBench(ExperimentConfig c, uint64_t torch_seed, int num_tasks) : config(std::move(c)) {
        torch::manual_seed(torch_seed);
        model = VisionTransformer(ViTOptions()
                                      .image_size(8)
                                      .patch_size(4)
                                      .in_channels(1)
                                      .dim(kMethodBenchDim)
                                      .depth(2)
                                      .heads(2)
                                      .head_classes(3));
        heads = TaskHeads(kMethodBenchDim);
        ctx = std::make_unique<MethodContext>(
            MethodContext{model, heads, config, 0, num_tasks, 0, torch::kCPU, 7, {}, {}, {}, {}});
    }
    void start_task(AdapterMethod& m, int t) {
        ctx->task = t;
        heads->add_head(2, 100 + t, torch::kCPU);
        m.begin_task(*ctx);
    }
    // `steps` training steps on random data with a fresh optimizer (config.train.optimizer: the
    // method's groups plus the current head), as the trainer steps a pass.
    void train(AdapterMethod& m, int steps) {
        const TaskPreparation prep = prepare_task(heads, config.train, heads->size() - 1);
        PassOptimizer pass = make_pass_optimizer(m, *ctx, prep, config.train.optimizer);
        GradScaler scaler(false);
        for (int s = 0; s < steps; ++s) {
            auto x = torch::randn({16, 1, 8, 8});
            auto y = torch::randint(0, 2, {16});
            (void)train_step({*ctx, m, scaler}, prep, pass, x, task_targets(prep, y));
        }
    }
    // Every weight of every LoRALinear, by name (detached copies).
    std::map<std::string, torch::Tensor> weights() {
        std::map<std::string, torch::Tensor> out;
        for (auto& [name, layer] : model->lora_layers()) out[name] = layer->weight.detach().clone();
        return out;
    }
    // Stands in for training: random values in every trainable factor of the method's groups.
    void randomise(AdapterMethod& m) {
        torch::NoGradGuard no_grad;
        for (auto& g : m.parameter_groups(*ctx))
            for (auto& p : g.params) p.copy_(torch::randn(p.sizes()) * 0.1);
    }
};

}  // namespace lorica::testing
