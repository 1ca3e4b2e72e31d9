// Training-step time of the default ViT (batch 128, 28×28×1) on this machine, per method (the
// trainer's own step: train_step after prepare_task), with a plain matrix product timed alongside as
// the machine's reference (ratios, not absolute times, are what compare across machines).
//
//   ./build/bench/bench_train_step [--device cpu|cuda] [--steps N] [--threads N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

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

double time_ms(const std::function<void()>& fn, int reps, torch::Device device) {
    for (int i = 0; i < 3; ++i) fn();
    if (device.is_cuda()) torch::cuda::synchronize();
    auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) fn();
    if (device.is_cuda()) torch::cuda::synchronize();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / reps;
}

}  // namespace

int main(int argc, char** argv) {
    std::string device_name = "auto";
    int steps = 30, threads = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--device")) device_name = argv[i + 1];
        if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    }
    torch::Device device = resolve_device(device_name);
    const int n_threads = configure_threads(threads);
    std::printf("device %s, %d threads, LibTorch %s\n", device.str().c_str(), n_threads, torch_version().c_str());

    auto a = torch::randn({256, 768}, device), b = torch::randn({768, 768}, device);
    const double mm_ms = time_ms([&] { (void)a.matmul(b); }, 50, device);
    std::printf("reference: 256×768 · 768×768 float32 matmul  %.3f ms  (%.0f GFLOP/s)\n", mm_ms,
                2.0 * 256 * 768 * 768 / mm_ms / 1e6);

    auto x = torch::randn({128, 1, 28, 28}, device);
    auto y = torch::randint(0, 5, {128}, torch::TensorOptions().dtype(torch::kInt64).device(device));
    for (std::string method : {"full-finetune", "sequential-lora", "frozen-backbone", "full-finetune"}) {
        // The method through the trainer's own task set-up and step (task_preparation.h, training_step.h):
        // the default config (AdamW, rank 8 on q and v), one 5-class stream head.
        ExperimentConfig config;
        config.method.name = method;
        config.train.batch_size = 128;
        torch::manual_seed(0);
        VisionTransformer vit(ViTOptions::from_config(config.backbone, 0));
        vit->to(device);
        TaskHeads heads(config.backbone.dim);
        MethodContext ctx{vit, heads, config, 0, 1, 0, device, 0, {}, {}, {}, {}};
        std::unique_ptr<AdapterMethod> m = make_method(config);
        m->begin_run(ctx);
        TaskSpec task;
        task.classes = {0, 1, 2, 3, 4};
        add_task_head(heads, task, 0, device);
        m->begin_task(ctx);
        const TaskPreparation prep = prepare_task(heads, config.train, task.head);
        m->begin_pass(ctx, 0);
        PassOptimizer pass = make_pass_optimizer(*m, ctx, prep, config.train.optimizer);
        GradScaler scaler(config.train.precision == Precision::fp16);
        const TrainingParts parts{ctx, *m, scaler};
        const torch::Tensor targets = task_targets(prep, y);
        const double step_ms = time_ms([&] { (void)train_step(parts, prep, pass, x, targets); }, steps, device);
        const double fwd_ms = time_ms(
            [&] {
                torch::NoGradGuard g;
                (void)heads->logits_of(vit->features(x), task.head);
            },
            steps, device);
        std::printf("%-16s train step %7.2f ms  (%.1f × matmul)   inference %6.2f ms\n", method.c_str(), step_ms,
                    step_ms / mm_ms, fwd_ms);
    }
    return 0;
}
