#include "engine/train/low_loss_region.h"

#include "engine/methods/catalog/method_catalog.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>

#include <ATen/Context.h>
#include <torch/torch.h>

#include "engine/data/batcher.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/timm_weights.h"
#include "engine/methods/method_registry.h"
#include "engine/model/adapter_targets.h"
#include "engine/model/backbone_factory.h"
#include "engine/runtime/device_transfer.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/lr_schedule.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"
#include "engine/util/seed_offsets.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

// Puts torch's global generators (the CPU's, and the device's) back as they were, after seeding them
// for the copy: the continual run draws exactly what it would without the analysis.
class LowLossGeneratorScope {
public:
    LowLossGeneratorScope(torch::Device device, uint64_t seed) : device_(device) {
        cpu_state_ = swap_state(at::detail::getDefaultCPUGenerator(), seed);
        if (!device_.is_cpu()) device_state_ = swap_state(at::globalContext().defaultGenerator(device_), seed);
    }
    ~LowLossGeneratorScope() {
        restore(at::detail::getDefaultCPUGenerator(), cpu_state_);
        if (!device_.is_cpu()) restore(at::globalContext().defaultGenerator(device_), device_state_);
    }
    LowLossGeneratorScope(const LowLossGeneratorScope&) = delete;
    LowLossGeneratorScope& operator=(const LowLossGeneratorScope&) = delete;

private:
    static torch::Tensor swap_state(at::Generator gen, uint64_t seed) {
        std::lock_guard<std::mutex> lock(gen.mutex());
        torch::Tensor state = gen.get_state();
        gen.set_current_seed(seed);
        return state;
    }
    static void restore(at::Generator gen, const torch::Tensor& state) {
        std::lock_guard<std::mutex> lock(gen.mutex());
        gen.set_state(state);
    }
    torch::Device device_;
    torch::Tensor cpu_state_, device_state_;
};

// A backbone of the same architecture holding `source`'s parameters and buffers, on `device`. Its
// random init draws from the global generator (the caller's LowLossGeneratorScope).
Backbone low_loss_clone(Backbone source, torch::Device device) {
    Backbone copy = backbone_from_description(source->description());
    torch::NoGradGuard no_grad;
    const auto params = source->named_parameters(true);
    for (auto& item : copy->named_parameters(true)) item.value().copy_(params[item.key()]);
    const auto buffers = source->named_buffers(true);
    for (auto& item : copy->named_buffers(true)) item.value().copy_(buffers[item.key()]);
    copy->to(device);
    return copy;
}

bool low_loss_adapts_every_weight(const ExperimentConfig& config) {
    return method_declaration(config.method.name).trains_every_weight;
}

}  // namespace

double frobenius_distance(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    double squared = 0.0;
    for (size_t k = 0; k < a.size(); ++k) {
        const torch::Tensor x = a[k].to(torch::kFloat64);
        const torch::Tensor d = b.empty() ? x : x - b[k].to(torch::kFloat64);
        squared += read_scalar(d.square().sum());
    }
    return std::sqrt(squared);
}

ExperimentConfig LowLossRegion::copy_config(const ExperimentConfig& config) {
    ExperimentConfig c = config;
    c.train.loss = LossScope::current_task;  // the task alone
    c.analysis.low_loss_region = false;
    const bool full = config.analysis.low_loss_update == LowLossUpdate::full;
    if (full && low_loss_adapts_every_weight(config)) {
        c.method.name = "full-finetune";
        c.method.options = nlohmann::json::object();
    } else {
        c.method.name = "merged-lora";
        c.method.options = {{"after_task", "merge"},
                            {"update", full ? "full" : "lora"},
                            {"alpha_per_rank", 0.0},  // s = method.alpha / method.rank
                            {"dropout", 0.0}};
    }
    return c;
}

LowLossRegion::LowLossRegion(const LowLossRegionRun& run, Backbone start)
    : config_(run.config), data_(run.data), seed_(run.seed), device_(run.device), cancel_(run.cancel) {
    {
        LowLossGeneratorScope generators(torch::kCPU, static_cast<uint64_t>(run.seed));
        start_ = low_loss_clone(start, torch::kCPU);
    }
    start_weights_ = compared_weights(start_);
}

std::vector<torch::Tensor> LowLossRegion::compared_weights(Backbone model) const {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> out;
    auto flat = [](const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat32).reshape(-1).clone(); };
    if (low_loss_adapts_every_weight(config_)) {
        std::map<std::string, LoRALinear> by_weight;
        for (auto& [name, layer] : model->lora_layers()) by_weight.emplace(name + ".weight", layer);
        const std::string head_prefix = model->head_name() + ".";
        for (const auto& item : model->named_parameters(true)) {
            if (item.key().rfind(head_prefix, 0) == 0) continue;
            const auto it = by_weight.find(item.key());
            out.push_back(flat(it != by_weight.end() ? it->second->merged_weight() : item.value()));
        }
        return out;
    }
    for (const AdapterSite& site : resolve_adapter_sites(model, config_.method.targets)) {
        const torch::Tensor matrix = site.layer->merged_weight().reshape({site.layer->options.out_features(), -1});
        out.push_back(flat(matrix.slice(0, site.row_offset, site.row_offset + site.rows)));
    }
    return out;
}

std::vector<torch::Tensor> LowLossRegion::train_optimum(int t) {
    const TaskData& task = data_.tasks[t];
    const ExperimentConfig config = copy_config(config_);
    const uint64_t seed = static_cast<uint64_t>(seed_);
    // One LoRA init for every task's copy: the optima differ by their tasks, not by their random starts.
    LowLossGeneratorScope generators(device_, derived_seed(seed, SeedStream::low_loss_copy));

    Backbone copy = low_loss_clone(start_, device_);
    TaskHeads heads(copy->feature_dim(), config.train.head_init);
    for (int k = 0; k <= t; ++k) add_task_head(heads, data_.tasks[k].spec, seed_, device_);  // the stream's heads
    std::unique_ptr<AdapterMethod> method = make_method(config);
    MethodContext ctx{copy, heads, config, t, static_cast<int>(data_.tasks.size()), 0, device_, seed};
    ctx.evaluate_seen = [](EvalPhase) {};
    ctx.evaluate_tasks = [](const std::vector<int>&) { return std::vector<EvalRow>{}; };
    ctx.emit = [](const Event&) {};
    ctx.warn = [](const std::string&) {};
    method->begin_run(ctx);
    method->begin_task(ctx);

    // The trainer's task loop (stream_trainer.cpp: train_passes, train_epoch) with the shared step.
    const TaskPreparation prep = prepare_task(heads, config.train, task.spec.head);
    const torch::Tensor targets = task_targets(prep, local_labels(task.train.labels, task.spec.classes).to(device_));
    const Batcher batcher(task.train.size(), config.train.batch_size,
                          derived_seed(seed, SeedStream::task_batches, static_cast<uint64_t>(t)));
    at::Generator augmentation =
        at::detail::createCPUGenerator(derived_seed(seed, SeedStream::task_augmentation, static_cast<uint64_t>(t)));
    const bool augment = config.data.augment.horizontal_flip || config.data.augment.random_crop_padding > 0;
    const TrainConfig train = task_train_config(config.train, task.spec);
    const int64_t pass_total = pass_steps(train, task.train.size());
    GradScaler scaler(config.train.precision == Precision::fp16);
    const TrainingParts parts{ctx, *method, scaler};
    const int passes = std::max(1, method->passes_per_task());
    for (int pass = 0; pass < passes && task.train.size() > 0; ++pass) {
        method->begin_pass(ctx, pass);
        PassOptimizer opt = make_pass_optimizer(*method, ctx, prep, config.train.optimizer);
        copy->train();
        int64_t step_in_pass = 0;
        for (int epoch_in_pass = 0; epoch_in_pass < train.epochs && step_in_pass < pass_total; ++epoch_in_pass) {
            const int epoch = pass * train.epochs + epoch_in_pass;
            SampleSource& samples = *task.train.samples;
            const std::vector<torch::Tensor> batches = batcher.epoch(epoch);
            const uint64_t batch_seed =
                mix_seed(derived_seed(seed, SeedStream::task_batch_transforms, static_cast<uint64_t>(t)), epoch);
            const int64_t planned = std::min<int64_t>(static_cast<int64_t>(batches.size()), pass_total - step_in_pass);
            samples.plan(std::vector<torch::Tensor>(batches.begin(), batches.begin() + planned), BatchMode::train,
                         batch_seed);
            for (const auto& index_cpu : batches) {
                if (step_in_pass >= pass_total) break;
                cancel_.checkpoint();
                torch::Tensor x = samples.batch_on(index_cpu, BatchMode::train, batch_seed, device_);
                if (augment) x = augment_batch(x, config.data.augment, augmentation);
                opt.optimizer.set_lr_multiplier(lr_multiplier(config.train.schedule, step_in_pass, pass_total));
                (void)train_step(parts, prep, opt, x, targets.index_select(0, to_device(index_cpu, device_)));
                ++step_in_pass;
            }
        }
    }
    method->end_task(ctx);  // merged-lora folds the LoRA into W
    copy->eval();

    std::vector<torch::Tensor> delta = compared_weights(copy);
    for (size_t k = 0; k < delta.size(); ++k) delta[k].sub_(start_weights_[k]);
    return delta;
}

void LowLossRegion::recompute_optima(int last) {
    for (int t = static_cast<int>(deltas_.size()); t <= last; ++t) deltas_.push_back(train_optimum(t));
}

std::vector<AnalysisPoint> LowLossRegion::after_task(int t, Backbone continual) {
    recompute_optima(t - 1);  // a no-op unless a task was skipped
    deltas_.resize(static_cast<size_t>(t));
    deltas_.push_back(train_optimum(t));

    std::vector<double> from_start(t + 1);
    for (int i = 0; i <= t; ++i) from_start[i] = frobenius_distance(deltas_[i], {});
    std::vector<AnalysisPoint> points;
    auto pair = [&](int i, int j, double distance) {
        points.push_back({AnalysisKey::low_loss_region, SeriesKey::of_task(i), static_cast<double>(j), distance});
        const double mean = (from_start[i] + from_start[j]) / 2.0;
        if (mean > 0.0)
            points.push_back(
                {AnalysisKey::low_loss_ratio, SeriesKey::of_task(i), static_cast<double>(j), distance / mean});
    };
    for (int j = 0; j <= t; ++j) {
        const double distance = j == t ? 0.0 : frobenius_distance(deltas_[t], deltas_[j]);
        pair(t, j, distance);
        if (j != t) pair(j, t, distance);
    }
    points.push_back({AnalysisKey::low_loss_region, SeriesKey::named(SeriesKey::Kind::from_start),
                      static_cast<double>(t), from_start[t]});

    std::vector<torch::Tensor> current = compared_weights(continual);
    for (size_t k = 0; k < current.size(); ++k) current[k].sub_(start_weights_[k]);
    for (int i = 0; i <= t; ++i)
        points.push_back({AnalysisKey::low_loss_continual, SeriesKey::of_task(i), static_cast<double>(t),
                          frobenius_distance(current, deltas_[i])});
    points.push_back({AnalysisKey::low_loss_continual, SeriesKey::named(SeriesKey::Kind::from_start),
                      static_cast<double>(t), frobenius_distance(current, {})});
    return points;
}

std::unique_ptr<LowLossRegion> start_low_loss_region(const LowLossRegionRun& run, Backbone model,
                                                     const std::string& run_dir, int resumed_task) {
    if (!run.config.analysis.low_loss_region) return nullptr;
    if (resumed_task < 0) return std::make_unique<LowLossRegion>(run, model);
    Backbone start;
    {
        LowLossGeneratorScope generators(torch::kCPU, static_cast<uint64_t>(run.seed));
        start = backbone_from_description(model->description());
    }
    const std::string path = (std::filesystem::path(run_dir) / kFoundationBackboneFile).string();
    load_timm_weights(start, path, TimmLoadOptions{/*interpolate_pos_embed*/ false, /*load_head*/ true});
    auto region = std::make_unique<LowLossRegion>(run, start);
    region->recompute_optima(resumed_task);
    return region;
}

}  // namespace lorica
