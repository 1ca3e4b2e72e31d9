// Training-step time of the default ViT (batch 128, 28×28×1) on this machine, per method, with a
// plain matrix product timed alongside as the machine's reference (ratios, not absolute times, are
// what compare across machines).
//
//   ./build/bench/bench_train_step [--device cpu|cuda] [--steps N] [--threads N]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include <torch/torch.h>

#include "engine/model/adapter_targets.h"
#include "engine/model/vit.h"
#include "engine/train/device.h"

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
    for (std::string method : {"full", "lora-qv-r8", "head-only", "full"}) {
        torch::manual_seed(0);
        VisionTransformer vit(ViTOptions().head_classes(5));
        vit->to(device);
        std::vector<torch::Tensor> params;
        if (method == "full") {
            params = vit->parameters();
        } else {
            for (auto& p : vit->parameters()) p.set_requires_grad(false);
            vit->head->weight.set_requires_grad(true);
            vit->head->bias.set_requires_grad(true);
            params = {vit->head->weight, vit->head->bias};
            if (method == "lora-qv-r8")
                for (auto& site : resolve_adapter_sites(vit, {"q", "v"})) {
                    auto& t = site.layer->add_term(
                        LowRankTerm::lora(8, site.in, site.rows, site.row_offset, 1.0, "", device));
                    params.push_back(t.A);
                    params.push_back(t.B);
                }
        }
        torch::optim::AdamW opt(params, torch::optim::AdamWOptions(5e-4).weight_decay(0.0));
        auto step = [&] {
            opt.zero_grad();
            auto loss = torch::nn::functional::cross_entropy(vit->forward(x), y);
            loss.backward();
            opt.step();
        };
        const double step_ms = time_ms(step, steps, device);
        const double fwd_ms = time_ms(
            [&] {
                torch::NoGradGuard g;
                (void)vit->forward(x);
            },
            steps, device);
        std::printf("%-12s train step %7.2f ms  (%.1f × matmul)   inference %6.2f ms\n", method.c_str(), step_ms,
                    step_ms / mm_ms, fwd_ms);
    }
    return 0;
}
