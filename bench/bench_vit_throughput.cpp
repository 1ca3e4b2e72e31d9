// Training throughput of ViT-B/16 (random init, 224 px, 3 channels) with LoRA on q and v and a
// trainable 100-class head: images/s of Lorica's training step (forward under autocast, backward,
// AdamW; loss read back once at the end, no per-step sync), the model FLOP utilisation, and the peak
// GPU memory. bench/device/check.sh runs it beside bench/device/timm_peft_throughput.py (timm + PEFT,
// the same model and step) and prints their ratio.
//
// Model FLOPs (matmul FLOPs only, a multiply-add = 2; T = (S/P)² + 1 tokens, d, L blocks, MLP width
// m, rank r on 2 sites per block, C classes, Pd = P²·channels):
//   F_patch = 2·(T−1)·Pd·d                  patch embedding (no input gradient: its input is the image)
//   F_lin   = L·2·T·d·(3d + d + 2m)         qkv, proj, fc1, fc2 (frozen: input gradients only)
//   F_attn  = L·4·T²·d                      QKᵀ and A·V (backward: 4 products, 2× forward)
//   F_lora  = L·2·(2·T·r·d + 2·T·r·d)       x·Aᵀ and ·Bᵀ on q and v (backward: input + weight grads)
//   F_head  = 2·d·C                         class token only (backward: input + weight grads)
//   train step per image = F_patch + 2·F_lin + 3·F_attn + 3·F_lora + 3·F_head
// ViT-B/16 at 224, r = 10, C = 100: ≈ 71.9 GFLOP per image. MFU = FLOPs/s ÷ the peak given with
// --peak-tflops (check.sh passes the H200's dense bf16 datasheet figure, 989).
//
//   ./build/bench/bench_vit_throughput [--device cpu|cuda] [--precision fp32|bf16|fp16] [--batch 128]
//                                      [--steps 20] [--warmup 5] [--rank 10] [--peak-tflops X]
// Output: human lines, then one line "RESULT images_per_s=… gflop_per_image=… mfu=… peak_mem_gib=…".
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <torch/torch.h>
#if defined(LORICA_HAVE_C10_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

#include "engine/config/experiment_config.h"
#include "engine/methods/method_registry.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"
#include "engine/runtime/device.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/loss_readback.h"
#include "engine/train/precision.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"

using namespace lorica;
using Clock = std::chrono::steady_clock;

namespace {

struct Shape {
    double S = 224, P = 16, ch = 3, d = 768, L = 12, m = 3072, r = 10, C = 100;
};

double train_flops_per_image(const Shape& s) {
    const double T = (s.S / s.P) * (s.S / s.P) + 1;
    const double patch = 2 * (T - 1) * s.P * s.P * s.ch * s.d;
    const double lin = s.L * 2 * T * s.d * (3 * s.d + s.d + 2 * s.m);
    const double attn = s.L * 4 * T * T * s.d;
    const double lora = s.L * 2 * (2 * T * s.r * s.d + 2 * T * s.r * s.d);
    const double head = 2 * s.d * s.C;
    return patch + 2 * lin + 3 * attn + 3 * lora + 3 * head;
}

double peak_memory_gib(torch::Device device) {
#if defined(LORICA_HAVE_C10_CUDA)
    if (device.is_cuda()) {
        auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index());
        return static_cast<double>(
                   stats.allocated_bytes[static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE)].peak) /
               (1024.0 * 1024.0 * 1024.0);
    }
#endif
    return 0.0;
}

}  // namespace

int main(int argc, char** argv) {
    std::string device_name = "auto", precision_name = "bf16";
    int64_t batch = 128, steps = 20, warmup = 5, threads = 0;
    double peak_tflops = 0;
    Shape shape;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--device")
            device_name = v;
        else if (k == "--precision")
            precision_name = v;
        else if (k == "--batch")
            batch = std::stoll(v);
        else if (k == "--steps")
            steps = std::stoll(v);
        else if (k == "--warmup")
            warmup = std::stoll(v);
        else if (k == "--rank")
            shape.r = std::stod(v);
        else if (k == "--threads")
            threads = std::stoll(v);
        else if (k == "--peak-tflops")
            peak_tflops = std::stod(v);
        else {
            std::fprintf(stderr, "unknown option %s\n", k.c_str());
            return 2;
        }
    }
    const auto precision = value_of(kPrecisionNames, precision_name);
    if (!precision) {
        std::fprintf(stderr, "--precision: '%s' is not one of %s\n", precision_name.c_str(),
                     allowed_names(kPrecisionNames).c_str());
        return 2;
    }
    const torch::Device device = resolve_device(device_name);
    const int n_threads = configure_threads(static_cast<int>(threads));
    enable_fast_fp32_math(device);
    std::printf("device %s, %d threads, LibTorch %s; ViT-B/16 224 px random init, LoRA r=%g on q,v, %s, batch %lld\n",
                device.str().c_str(), n_threads, torch_version().c_str(), shape.r, precision_name.c_str(),
                static_cast<long long>(batch));

    // Sequential LoRA on q and v (rank r, scale α/r = 1) through the trainer's own task set-up and step
    // (task_preparation.h, training_step.h): ViT-B/16 without its own head, one C-class stream head.
    ExperimentConfig config;
    config.backbone = backbone_preset("vit_base_patch16_224");
    config.method.name = "sequential-lora";
    config.method.rank = static_cast<int>(shape.r);
    config.method.alpha = shape.r;
    config.method.targets = {"q", "v"};
    config.train.batch_size = batch;
    config.train.precision = *precision;
    config.train.optimizer.lr = 1e-3;
    config.train.optimizer.weight_decay = 0.0;
    torch::manual_seed(0);
    VisionTransformer vit(ViTOptions::from_config(config.backbone, 0));
    vit->to(device);
    TaskHeads heads(config.backbone.dim);
    MethodContext ctx{vit, heads, config, 0, 1, 0, device, 0, {}, {}, {}, {}};
    std::unique_ptr<AdapterMethod> method = make_method(config);
    method->begin_run(ctx);
    TaskSpec task;
    for (int c = 0; c < static_cast<int>(shape.C); ++c) task.classes.push_back(c);
    add_task_head(heads, task, 0, device);
    method->begin_task(ctx);
    const TaskPreparation prep = prepare_task(heads, config.train, task.head);
    method->begin_pass(ctx, 0);
    PassOptimizer pass = make_pass_optimizer(*method, ctx, prep, config.train.optimizer);
    GradScaler scaler(*precision == Precision::fp16);
    const TrainingParts parts{ctx, *method, scaler};
    LossReadback losses(steps + warmup);

    auto x = torch::randn({batch, 3, 224, 224}, device);
    auto y = torch::randint(0, static_cast<int64_t>(shape.C), {batch},
                            torch::TensorOptions().dtype(torch::kInt64).device(device));
    const torch::Tensor targets = task_targets(prep, y);
    auto step = [&] { losses.push(train_step(parts, prep, pass, x, targets)); };
    for (int64_t i = 0; i < warmup; ++i) step();
    if (device.is_cuda()) torch::cuda::synchronize();
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    const std::vector<double> values = losses.read();  // waits for the device
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();

    const double images_per_s = static_cast<double>(batch * steps) / seconds;
    const double gflop = train_flops_per_image(shape) / 1e9;
    const double tflops = images_per_s * gflop / 1e3;
    const double mfu = peak_tflops > 0 ? tflops / peak_tflops : 0.0;
    std::printf("losses: first %.4f, last %.4f (%zu steps read back at once)\n", values.front(), values.back(),
                values.size());
    std::printf("train step %.2f ms, %.1f images/s, %.2f GFLOP/image (matmul), %.1f TFLOP/s", 1e3 * seconds / steps,
                images_per_s, gflop, tflops);
    if (peak_tflops > 0) std::printf(", MFU %.1f%% of %.0f TFLOP/s", 100 * mfu, peak_tflops);
    std::printf("\n");
    const double peak_gib = peak_memory_gib(device);
    if (device.is_cuda()) std::printf("peak GPU memory allocated: %.2f GiB\n", peak_gib);
    std::printf("RESULT images_per_s=%.2f gflop_per_image=%.3f tflops=%.2f mfu=%.4f peak_mem_gib=%.3f\n", images_per_s,
                gflop, tflops, mfu, peak_gib);
    return 0;
}
