// One AdamW step over the default experiment's foundation parameters (the tiny ViT, full fine-tuning:
// 42 tensors, ≈ 150k floats): torch::optim::AdamW against FlatAdamW (engine/train/flat_adamw.h),
// alternated in rounds in one process so both see the same machine load; prints each one's mean
// step time and their ratio.
//
//   ./build/bench/bench_optimizer_step [--threads N] [--steps N] [--rounds N]
#include <chrono>
#include <cstdio>
#include <cstring>

#include <torch/torch.h>

#include "engine/model/vit.h"
#include "engine/train/device.h"
#include "engine/train/flat_adamw.h"

using namespace lorica;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    int threads = 0, steps = 200, rounds = 5;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--steps")) steps = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    }
    const int n_threads = configure_threads(threads);
    torch::manual_seed(0);
    VisionTransformer a(ViTOptions().head_classes(5)), b(ViTOptions().head_classes(5));
    for (auto* vit : {&a, &b})
        for (auto& p : (*vit)->parameters()) p.mutable_grad() = torch::randn_like(p) * 1e-2;  // fixed gradients
    auto options = [] { return std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-3).weight_decay(0.05)); };
    std::vector<torch::optim::OptimizerParamGroup> ga, gb;
    ga.emplace_back(a->parameters(), options());
    gb.emplace_back(b->parameters(), options());
    torch::optim::AdamW torch_opt(ga, torch::optim::AdamWOptions(1e-3));
    FlatAdamW flat_opt(gb, torch::optim::AdamWOptions(1e-3));
    auto time_ms = [&](torch::optim::Optimizer& opt) {
        const auto t0 = Clock::now();
        for (int i = 0; i < steps; ++i) opt.step();
        return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / steps;
    };
    time_ms(torch_opt);
    time_ms(flat_opt);
    double t_torch = 0, t_flat = 0;
    for (int r = 0; r < rounds; ++r) {
        t_torch += time_ms(torch_opt);
        t_flat += time_ms(flat_opt);
    }
    t_torch /= rounds;
    t_flat /= rounds;
    size_t tensors = a->parameters().size();
    std::printf("%d threads, %zu parameter tensors, %lld floats\n", n_threads, tensors,
                static_cast<long long>(flat_opt.param_groups()[0].params().size() ? [&] {
                    int64_t n = 0;
                    for (auto& p : b->parameters()) n += p.numel();
                    return n;
                }() : 0));
    std::printf("torch::optim::AdamW step %.3f ms   FlatAdamW step %.3f ms   ratio %.2f×\n", t_torch, t_flat, t_torch / t_flat);
    return 0;
}
