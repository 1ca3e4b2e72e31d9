// Step growth of every registered method: "no method's training step may grow with the number of
// tasks by more than 10 % over 20 tasks". For each method of registered_methods() on the default tiny
// ViT (28×28×1, dim 64, depth 3; batch 128; the method's default options with its per-task analyses
// off), two identical set-ups: one at task 1, one driven through 19 tasks (each: begin_task, every
// pass with 2 training steps, end_task) and then at task 20. The training step of both (the trainer's
// own train_step: method hooks, forward, regulariser, backward, optimizer step) is timed in
// interleaved rounds, so machine load affects both alike; the ratio is the median over rounds.
//
//   step(20) / step(1)   flagged GROWS when > 1.10
//
// Methods for another backbone family, and methods whose set-up throws, are listed with the reason.
//
//   OMP_NUM_THREADS=1 ./build/bench/bench_step_growth [--device cpu|cuda] [--steps N] [--threads N]
//                                                     [--tasks N] [--rounds N] [--only NAME]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "engine/methods/method_registry.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"
#include "engine/runtime/device.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"

using namespace lorica;
using Clock = std::chrono::steady_clock;

namespace {

double step_growth_time_ms(const std::function<void()>& fn, int reps, torch::Device device) {
    fn();
    if (device.is_cuda()) torch::cuda::synchronize();
    auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) fn();
    if (device.is_cuda()) torch::cuda::synchronize();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / reps;
}

double step_growth_median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// The config of method `info`: its defaults, with the analyses it runs at task ends switched off
// (they evaluate data this bench does not have) where it declares them.
ExperimentConfig step_growth_config(const MethodInfo& info) {
    ExperimentConfig config;
    config.method.name = info.declaration->name;
    config.method.options = nlohmann::json::object();
    for (const char* off : {"interpolation_points", "state_every"})
        if (info.declaration->options->find(off)) config.method.options[off] = 0;
    return config;
}

// A tiny ViT with one method driven by hand; each task trains a 5-class stream head with the
// trainer's own task set-up and step. MethodContext's callbacks: no evaluation, no events,
// task_batches = 2 batches of the bench's random images.
struct StepGrowthSetup {
    ExperimentConfig config;
    VisionTransformer model{nullptr};
    TaskHeads heads{nullptr};
    std::unique_ptr<MethodContext> ctx;
    std::unique_ptr<AdapterMethod> method;
    GradScaler scaler{false};
    TaskPreparation prep;
    PassOptimizer pass;
    torch::Tensor x, y;

    StepGrowthSetup(const MethodInfo& info, torch::Device device, torch::Tensor images, torch::Tensor labels)
        : config(step_growth_config(info)), x(std::move(images)), y(std::move(labels)) {
        torch::manual_seed(0);
        model = VisionTransformer(ViTOptions().head_classes(5));
        model->to(device);
        heads = TaskHeads(64);
        ctx = std::make_unique<MethodContext>(MethodContext{model, heads, config, 0, 0, 0, device, 0, {}, {}, {}, {}});
        ctx->num_tasks = 20;
        ctx->evaluate_seen = [](EvalPhase) {};
        ctx->evaluate_tasks = [](const std::vector<int>&) { return std::vector<EvalRow>{}; };
        ctx->emit = [](const Event&) {};
        ctx->warn = [](const std::string&) {};
        ctx->task_batches = [this](int64_t max_batches, const std::function<void(const TaskBatch&)>& visit) {
            const int64_t n = max_batches > 0 ? std::min<int64_t>(max_batches, 2) : 2;
            for (int64_t b = 0; b < n; ++b) visit(TaskBatch{x, y});
        };
        method = info.make(config);
        method->begin_run(*ctx);
    }
    // Task `task` up to its last pass's optimizer (the earlier passes train 2 steps each).
    void begin(int task) {
        ctx->task = task;
        TaskSpec spec;
        spec.index = task;
        spec.classes = {0, 1, 2, 3, 4};
        add_task_head(heads, spec, 0, ctx->device);  // one head, shared by every task
        method->begin_task(*ctx);
        prep = prepare_task(heads, config.train, spec.head);
        const int passes = std::max(1, method->passes_per_task());
        for (int p = 0; p < passes; ++p) {
            method->begin_pass(*ctx, p);
            pass = make_pass_optimizer(*method, *ctx, prep, config.train.optimizer);
            if (p + 1 < passes)
                for (int s = 0; s < 2; ++s) step();
        }
    }
    void step() { (void)train_step({*ctx, *method, scaler}, prep, pass, x, y); }
    void finish() {
        for (int s = 0; s < 2; ++s) step();
        method->end_task(*ctx);
    }
};

}  // namespace

int main(int argc, char** argv) {
    std::string device_name = "auto", only;
    int steps = 10, threads = 0, tasks = 20, rounds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--device")) device_name = argv[i + 1];
        if (!std::strcmp(argv[i], "--steps")) steps = std::max(1, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--tasks")) tasks = std::max(2, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "--rounds")) rounds = std::max(1, std::atoi(argv[i + 1]));
        if (!std::strcmp(argv[i], "--only")) only = argv[i + 1];
    }
    torch::Device device = resolve_device(device_name);
    const int n_threads = configure_threads(threads);
    std::printf("device %s, %d threads, LibTorch %s; tiny ViT, batch 128, each method's defaults, task 1 vs task %d\n",
                device.str().c_str(), n_threads, torch_version().c_str(), tasks);
    std::printf("%-18s %10s %10s %8s\n", "method", "task 1 ms", "late ms", "ratio");

    torch::manual_seed(1);
    auto x = torch::randn({128, 1, 28, 28}, device);
    auto y = torch::randint(0, 5, {128}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    int grown = 0;
    for (const MethodInfo& info : registered_methods()) {
        const std::string& name = info.declaration->name;
        if (!only.empty() && name != only) continue;
        if (!info.declaration->supports(BackboneFamily::vit)) {
            std::printf("%-18s   skipped: not for a ViT\n", name.c_str());
            continue;
        }
        try {
            StepGrowthSetup first(info, device, x, y), late(info, device, x, y);
            first.begin(0);
            for (int t = 0; t + 1 < tasks; ++t) {
                late.begin(t);
                late.finish();
            }
            late.begin(tasks - 1);
            std::vector<double> ratio;
            double ms_first = 0, ms_late = 0;
            for (int r = 0; r < rounds; ++r) {
                const double a = step_growth_time_ms([&] { first.step(); }, steps, device);
                const double b = step_growth_time_ms([&] { late.step(); }, steps, device);
                ratio.push_back(b / a);
                ms_first += a / rounds;
                ms_late += b / rounds;
            }
            const double median = step_growth_median(ratio);
            const bool grows = median > 1.10;
            grown += grows;
            std::printf("%-18s %10.2f %10.2f %8.3f%s\n", name.c_str(), ms_first, ms_late, median,
                        grows ? "   GROWS (> 1.10)" : "");
        } catch (const std::exception& e) {
            std::printf("%-18s   error: %s\n", name.c_str(), e.what());
        }
        std::fflush(stdout);
    }
    std::printf("%d method(s) above 1.10\n", grown);
    return 0;
}
