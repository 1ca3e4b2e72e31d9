#pragma once
// A method under test without the trainer: a 2-block ViT of width kMethodBenchDim on 8×8 one-channel
// images, its stream heads, a MethodContext, and the per-task calls the trainer would make
// (add the task's 2-class head, begin_task, AdamW steps on random data with after_backward).

#include <map>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "engine/methods/adapter_method.h"
#include "engine/train/optimizer_factory.h"

namespace lorica::testing {

inline constexpr int64_t kMethodBenchDim = 16;

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
    // `steps` AdamW steps on random data (the method's groups plus the current head).
    void train(AdapterMethod& m, int steps) {
        auto groups = m.parameter_groups(*ctx);
        groups.push_back({"heads", heads->parameters_of({heads->size() - 1}), 1e-2, 0.01});
        TaskOptimizer opt = make_optimizer(config.train.optimizer, groups);
        for (int s = 0; s < steps; ++s) {
            auto x = torch::randn({16, 1, 8, 8});
            auto y = torch::randint(0, 2, {16});
            opt.optimizer->zero_grad();
            torch::nn::functional::cross_entropy(heads->logits_of(model->features(x), heads->size() - 1), y).backward();
            m.after_backward(*ctx);
            opt.optimizer->step();
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
