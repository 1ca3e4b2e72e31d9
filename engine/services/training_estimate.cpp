#include "engine/services/training_estimate.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <mutex>

#include <torch/torch.h>

#include "engine/methods/method_registry.h"
#include "engine/model/global_generator_guard.h"
#include "engine/model/task_heads.h"
#include "engine/model/backbone_factory.h"
#include "engine/model/vit.h"
#include "engine/stream/stream_spec.h"
#include "engine/runtime/device.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/precision.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"
#include "engine/runtime/host_read.h"

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

// Data-set streams: the classes of stream.datasets[t] (the catalogue's count, else the class folders
// of an image folder, under train/ when it has one; 0 when unknown, e.g. a file list).
int dataset_task_classes(const ExperimentConfig& config, const DatasetTaskConfig& entry) {
    if (const int n = dataset_num_classes(entry.dataset, config.data.cifar100_labels); n > 0) return n;
    if (!entry.file_list.empty()) return 0;
    namespace fs = std::filesystem;
    std::error_code ec;
    const fs::path root =
        fs::is_directory(fs::path(entry.root) / "train", ec) ? fs::path(entry.root) / "train" : fs::path(entry.root);
    int classes = 0;
    for (const auto& e : fs::directory_iterator(root, ec))
        if (e.is_directory(ec)) ++classes;
    return classes;
}

StreamSpec estimated_stream_spec(const ExperimentConfig& config, int64_t run_seed) {
    if (config.stream.type != StreamType::datasets) return make_stream_spec(config, run_seed, num_classes_of(config));
    std::vector<int> classes;
    for (const auto& entry : config.stream.datasets) classes.push_back(dataset_task_classes(config, entry));
    return make_dataset_stream_spec(config, run_seed, classes);
}

// Training images of a task: data.train_per_class · classes (data-set streams: the entry's
// train_per_class · classes · subset_fraction); -1 when unknown.
int64_t estimated_train_images(const ExperimentConfig& config, const TaskSpec& task) {
    const auto classes = static_cast<int64_t>(task.classes.size());
    if (config.stream.type != StreamType::datasets)
        return config.data.train_per_class > 0 ? config.data.train_per_class * classes : -1;
    const DatasetTaskConfig& entry = config.stream.datasets.at(static_cast<size_t>(task.index));
    if (entry.train_per_class <= 0 || classes <= 0) return -1;
    const int64_t n = entry.train_per_class * classes;
    return std::clamp<int64_t>(std::llround(entry.subset_fraction * static_cast<double>(n)), 1, n);
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
    const int64_t run_seed = config.seeds.empty() ? 0 : config.seeds.front();  // the first run's seed
    const StreamSpec spec = estimated_stream_spec(config, run_seed);

    const int64_t head_classes = trains_foundation(config) ? config.foundation.classes : 0;
    Backbone model = make_backbone(config.backbone, head_classes);
    model->to(device);
    TaskHeads heads(config.backbone.dim);
    heads->to(device);
    std::unique_ptr<AdapterMethod> method = make_method(config);
    const int passes = std::max(1, method->passes_per_task());
    MethodContext ctx{
        model, heads, config, 0, static_cast<int>(spec.tasks.size()), 0, device, static_cast<uint64_t>(run_seed), {},
        {},    {},    {},     {}};
    ctx.evaluate_seen = [](EvalPhase) {};
    ctx.evaluate_tasks = [](const std::vector<int>&) { return std::vector<EvalRow>{}; };
    ctx.emit = [](const Event&) {};
    // A method's own pass over the task's images (InfLoRA's features, a Fisher): one batch of noise
    // of the task's shape, enough to build its state; the estimate times steps, not these passes.
    ctx.task_batches = [&config, &ctx, &spec](int64_t, const std::function<void(const TaskBatch&)>& visit) {
        const int64_t batch = config.train.batch_size;
        const auto& task = spec.tasks.at(static_cast<size_t>(ctx.task) < spec.tasks.size() ? ctx.task : 0);
        const int64_t classes = std::max<int64_t>(1, static_cast<int64_t>(task.classes.size()));
        visit(TaskBatch{
            torch::randn({batch, config.backbone.in_channels, config.backbone.image_size, config.backbone.image_size},
                         torch::TensorOptions().device(ctx.device)),
            torch::randint(classes, {batch}, torch::TensorOptions().dtype(torch::kInt64).device(ctx.device))});
    };
    ctx.warn = [](const std::string&) {};
    method->begin_run(ctx);
    GradScaler scaler(config.train.precision == Precision::fp16);

    bool counting = true;
    int64_t total = 0;
    for (const TaskSpec& task : spec.tasks) {
        const int64_t images = estimated_train_images(config, task);
        const int64_t per_pass = images >= 0 ? pass_steps(task_train_config(config.train, task), images) : -1;
        out.steps_per_task.push_back(per_pass < 0 ? -1 : per_pass * passes);
        total = (per_pass < 0 || total < 0) ? -1 : total + per_pass * passes;
        if (!counting) {
            out.trainable_per_task.push_back(-1);
            out.head_per_task.push_back(-1);
            continue;
        }
        try {
            // As the trainer prepares a task (task_preparation.h) and trains its first pass.
            ctx.task = task.index;
            if (task.classes.empty()) throw std::runtime_error("the task's classes are unknown");
            add_task_head(heads, task, run_seed, device);
            method->begin_task(ctx);
            const TaskPreparation prep = prepare_task(heads, config.train, task.head);
            method->begin_pass(ctx, 0);
            PassOptimizer pass = make_pass_optimizer(*method, ctx, prep, config.train.optimizer);
            const int64_t head_count = count_parameters({pass.groups.back()});
            const int64_t trainable = count_parameters(pass.groups);

            if (task.index == spec.tasks.front().index && measured_steps > 0) {
                const int64_t batch = config.train.batch_size;
                const torch::Tensor x = torch::randn(
                    {batch, config.backbone.in_channels, config.backbone.image_size, config.backbone.image_size},
                    torch::TensorOptions().device(device));
                const torch::Tensor local = torch::randint(static_cast<int64_t>(task.classes.size()), {batch},
                                                           torch::TensorOptions().dtype(torch::kInt64).device(device));
                const torch::Tensor y = task_targets(prep, local);
                model->train();
                const TrainingParts parts{ctx, *method, scaler};
                auto step = [&] { (void)read_scalar(train_step(parts, prep, pass, x, y)); };  // waits for the device
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
