// SD-LoRA cost on the default tiny ViT (batch 128, 28×28×1, q and v, rank 8), as ratios measured in
// the same run:
//   training step at task 20 ÷ training step at task 1   (goal ≤ 1.1: old directions are folded
//                                                          into the weight, not run per term)
//   inference with 20 unmerged directions ÷ base model
//   merged inference (merge_for_inference) ÷ base model   (goal ≈ 1.0)
// Each ratio is the median over interleaved rounds, so machine load affects both sides alike.
//
//   OMP_NUM_THREADS=1 ./build/bench/bench_sd_lora [--device cpu|cuda] [--steps N] [--threads N] [--tasks N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>

#include <torch/torch.h>

#include "engine/methods/sd_lora.h"
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
    fn();
    if (device.is_cuda()) torch::cuda::synchronize();
    auto t0 = Clock::now();
    for (int i = 0; i < reps; ++i) fn();
    if (device.is_cuda()) torch::cuda::synchronize();
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / reps;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// A ViT with an SD-LoRA method driven by hand (no data, no evaluation); each task trains one 5-class
// stream head with the trainer's own task set-up and step (task_preparation.h, training_step.h).
struct Setup {
    ExperimentConfig config;
    VisionTransformer model{nullptr};
    TaskHeads heads{nullptr};
    std::unique_ptr<MethodContext> ctx;
    std::unique_ptr<SDLoRA> method;
    GradScaler scaler{false};
    TaskPreparation prep;
    PassOptimizer pass;

    explicit Setup(torch::Device device) {
        config.method.name = "sd-lora";
        config.method.options = {{"interpolation_points", 0}, {"state_every", 0}};
        torch::manual_seed(0);
        model = VisionTransformer(ViTOptions().head_classes(5));
        model->to(device);
        heads = TaskHeads(64);
        ctx = std::make_unique<MethodContext>(MethodContext{model, heads, config, 0, 0, 0, device, 0, {}, {}, {}, {}});
        method = std::make_unique<SDLoRA>(config, SDLoRAVariant::plain);
        method->begin_run(*ctx);
    }
    void begin(int task) {
        ctx->task = task;
        TaskSpec spec;
        spec.index = task;
        spec.classes = {0, 1, 2, 3, 4};
        add_task_head(heads, spec, 0, ctx->device);  // one head, shared by every task
        method->begin_task(*ctx);
        prep = prepare_task(heads, config.train, spec.head);
        method->begin_pass(*ctx, 0);
        pass = make_pass_optimizer(*method, *ctx, prep, config.train.optimizer);
    }
    void step(const torch::Tensor& x, const torch::Tensor& y) {
        (void)train_step({*ctx, *method, scaler}, prep, pass, x, y);
    }
    void finish() {
        torch::NoGradGuard g;  // stands in for training: a non-zero update in every matrix
        for (auto& [name, layer] : model->lora_layers())
            for (auto& t : layer->terms())
                if (t.trainable_factors()) t.B.copy_(torch::randn_like(t.B) * 0.05);
        method->end_task(*ctx);
    }
};

}  // namespace

int main(int argc, char** argv) {
    std::string device_name = "auto";
    int steps = 20, threads = 0, tasks = 20, rounds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--device")) device_name = argv[i + 1];
        if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--tasks")) tasks = std::max(2, std::atoi(argv[i + 1]));
    }
    torch::Device device = resolve_device(device_name);
    const int n_threads = configure_threads(threads);
    std::printf("device %s, %d threads, LibTorch %s; tiny ViT, batch 128, SD-LoRA rank 8 on q,v, %d tasks\n",
                device.str().c_str(), n_threads, torch_version().c_str(), tasks);

    auto x = torch::randn({128, 1, 28, 28}, device);
    auto y = torch::randint(0, 5, {128}, torch::TensorOptions().dtype(torch::kInt64).device(device));

    // Two identical models: `first` stays at task 1, `late` goes through `tasks − 1` hand-overs.
    Setup first(device), late(device);
    first.begin(0);
    for (int t = 0; t + 1 < tasks; ++t) {
        late.begin(t);
        late.finish();
    }
    late.begin(tasks - 1);
    auto train_step = [&](Setup& s) { return [&] { s.step(x, y); }; };
    std::vector<double> step_ratio;
    double step_first = 0, step_late = 0;
    for (int r = 0; r < rounds; ++r) {
        const double a = time_ms(train_step(first), steps, device);
        const double b = time_ms(train_step(late), steps, device);
        step_ratio.push_back(b / a);
        step_first += a / rounds;
        step_late += b / rounds;
    }
    std::printf("training step: task 1 %.2f ms, task %d %.2f ms   ratio task %d ÷ task 1 = %.3f (goal ≤ 1.1)\n",
                step_first, tasks, step_late, tasks, tasks, median(step_ratio));

    // Inference: base model (no terms) vs. the late model unmerged and merged.
    late.finish();
    Setup base(device);
    base.model->eval();
    late.model->eval();
    auto infer = [&](Setup& s) {
        return [&] {
            torch::NoGradGuard g;
            (void)s.model->forward(x);
        };
    };
    std::vector<double> unmerged_ratio, merged_ratio;
    for (int r = 0; r < rounds; ++r) {
        const double b = time_ms(infer(base), steps, device);
        unmerged_ratio.push_back(time_ms(infer(late), steps, device) / b);
    }
    torch::Tensor before, base_logits;
    {
        torch::NoGradGuard g;
        before = late.model->forward(x);
        base_logits = base.model->forward(x);
    }
    late.method->merge_for_inference(*late.ctx);
    double base_ms = 0, merged_ms = 0;
    for (int r = 0; r < rounds; ++r) {
        const double b = time_ms(infer(base), steps, device);
        const double m = time_ms(infer(late), steps, device);
        merged_ratio.push_back(m / b);
        base_ms += b / rounds;
        merged_ms += m / rounds;
    }
    torch::Tensor after;
    {
        torch::NoGradGuard g;
        after = late.model->forward(x);
    }
    std::printf(
        "inference: base %.2f ms, merged %.2f ms   ratio unmerged (%d directions) ÷ base = %.3f, "
        "merged ÷ base = %.3f (goal ≈ 1.0)\n",
        base_ms, merged_ms, tasks, median(unmerged_ratio), median(merged_ratio));
    std::printf("logits: merged vs unmerged max relative difference %.2e (adapted vs base model: %.2e)\n",
                ((after - before).abs().max() / before.abs().max()).item<double>(),
                ((before - base_logits).abs().max() / base_logits.abs().max()).item<double>());
    return 0;
}
