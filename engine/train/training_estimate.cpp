#include "engine/train/training_estimate.h"

#include <chrono>
#include <mutex>

#include <torch/torch.h>

#include "engine/methods/method_registry.h"
#include "engine/model/global_generator_guard.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"
#include "engine/stream/stream_spec.h"
#include "engine/train/device.h"
#include "engine/train/optimizer_factory.h"
#include "engine/train/precision.h"

namespace lorica {
namespace {

int num_classes_of(const ExperimentConfig& config) {
    // The catalogue's count (dataset_catalog.h; CIFAR-100 coarse: 20).
    if (const int n = dataset_num_classes(config.data.dataset, config.data.cifar100_labels); n > 0) return n;
    // image folders: the stream needs at least this many classes; the estimate does not read the folder
    return config.stream.type == StreamType::domain_incremental
               ? config.stream.classes_per_task
               : config.stream.tasks * config.stream.classes_per_task +
                     (config.foundation.enabled ? config.foundation.classes : 0);
}

int64_t pass_steps(const ExperimentConfig& config, int64_t images) {
    if (images <= 0) return -1;
    int64_t steps = (images + config.train.batch_size - 1) / config.train.batch_size * config.train.epochs;
    if (config.train.max_steps_per_task > 0) steps = std::min(steps, config.train.max_steps_per_task);
    return steps;
}

}  // namespace

TrainingEstimate estimate_training(const ExperimentConfig& config, int measured_steps, const std::atomic<bool>* stop) {
    const GlobalGeneratorGuard keep_generator;
    torch::manual_seed(0);
    TrainingEstimate out;
    const torch::Device device = resolve_device(config.device);
    out.device = device.str();
    enable_fast_fp32_math(device);
    out.runs = std::max<int>(1, static_cast<int>(config.seeds.size()));
    const int64_t seed = config.stream.class_order_seed.value_or(config.seeds.empty() ? 0 : config.seeds.front());
    const StreamSpec spec = make_stream_spec(config, seed, num_classes_of(config));

    const int64_t head_classes = config.foundation.enabled ? config.foundation.classes : 0;
    VisionTransformer model(ViTOptions::from_config(config.backbone, head_classes));
    model->to(device);
    TaskHeads heads(config.backbone.dim);
    heads->to(device);
    std::unique_ptr<AdapterMethod> method = make_method(config);
    const int passes = std::max(1, method->passes_per_task());
    MethodContext ctx{
        model, heads, config, 0, static_cast<int>(spec.tasks.size()), 0, device, static_cast<uint64_t>(seed),
        {},    {},    {},     {}};
    ctx.evaluate_seen = [](EvalPhase) {};
    ctx.evaluate_tasks = [](const std::vector<int>&) { return std::vector<EvalRow>{}; };
    ctx.emit = [](const Event&) {};
    ctx.warn = [](const std::string&) {};
    method->begin_run(ctx);

    bool counting = true;
    int64_t total = 0;
    for (const TaskSpec& task : spec.tasks) {
        const int64_t per_pass =
            pass_steps(config, config.data.train_per_class > 0
                                   ? config.data.train_per_class * static_cast<int64_t>(task.classes.size())
                                   : 0);
        out.steps_per_task.push_back(per_pass < 0 ? -1 : per_pass * passes);
        total = (per_pass < 0 || total < 0) ? -1 : total + per_pass * passes;
        if (!counting) {
            out.trainable_per_task.push_back(-1);
            out.head_per_task.push_back(-1);
            continue;
        }
        try {
            ctx.task = task.index;
            if (task.head >= heads->size())
                heads->add_head(static_cast<int64_t>(task.classes.size()), static_cast<uint64_t>(task.head), device);
            std::vector<int> trained;
            if (config.train.loss == LossScope::all_seen)
                for (int h = 0; h <= task.head; ++h) trained.push_back(h);
            else
                trained.push_back(task.head);
            method->begin_task(ctx);
            method->begin_pass(ctx, 0);
            std::vector<ParamGroup> groups = method->parameter_groups(ctx);
            std::vector<torch::Tensor> head_params = heads->parameters_of(trained);
            for (int h = 0; h < heads->size(); ++h)
                for (auto& p : heads->head(h)->parameters()) p.set_requires_grad(false);
            for (auto& p : head_params) p.set_requires_grad(true);
            const double head_lr =
                config.train.optimizer.head_lr > 0 ? config.train.optimizer.head_lr : config.train.optimizer.lr;
            groups.push_back({"heads", head_params, head_lr, config.train.optimizer.weight_decay});
            const int64_t head_count = count_parameters({groups.back()});
            const int64_t trainable = count_parameters(groups);

            if (task.index == spec.tasks.front().index && measured_steps > 0) {
                TaskOptimizer opt = make_optimizer(config.train.optimizer, groups);
                const int64_t batch = config.train.batch_size;
                const torch::Tensor x = torch::randn(
                    {batch, config.backbone.in_channels, config.backbone.image_size, config.backbone.image_size},
                    torch::TensorOptions().device(device));
                const torch::Tensor y = torch::randint(static_cast<int64_t>(task.classes.size()), {batch},
                                                       torch::TensorOptions().dtype(torch::kInt64).device(device));
                model->train();
                auto step = [&] {
                    opt.optimizer->zero_grad();
                    torch::Tensor loss;
                    {
                        AutocastScope autocast(config.train.precision, device);
                        torch::Tensor logits = heads->logits_of(model->features(x), task.head);
                        loss = torch::nn::functional::cross_entropy(logits, y);
                    }
                    loss.backward();
                    method->after_backward(ctx);
                    opt.optimizer->step();
                    (void)loss.item<float>();  // waits for the device
                };
                step();  // warm-up: allocations, kernel selection
                const auto start = std::chrono::steady_clock::now();
                int done = 0;
                for (; done < measured_steps && !(stop && stop->load()); ++done) step();
                out.measured_steps = done;
                if (done > 0)
                    out.seconds_per_step =
                        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / done;
            }
            method->end_task(ctx);
            out.head_per_task.push_back(head_count);
            out.trainable_per_task.push_back(trainable);
        } catch (const std::exception&) {
            if (task.index == spec.tasks.front().index) throw;
            out.trainable_per_task.push_back(-1);
            out.head_per_task.push_back(-1);
            counting = false;
        }
    }
    out.total_steps = total < 0 ? -1 : total * out.runs;
    if (out.total_steps >= 0 && out.measured_steps > 0) out.estimated_seconds = out.total_steps * out.seconds_per_step;
    return out;
}

}  // namespace lorica
