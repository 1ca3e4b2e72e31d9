// GradScaler (engine/train/grad_scaler.h): exact scaling and unscaling (powers of two), inf/NaN
// detection with the step skipped and the scale backed off, growth after the interval, the disabled
// identity, and an fp16-autocast training loop that recovers from a scale far too large.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include <torch/torch.h>

#include "engine/train/grad_scaler.h"
#include "engine/train/precision.h"
#include "tests/support/test_device.h"

using namespace lorica;

namespace {

torch::Tensor param_with_grad(std::vector<float> grad) {
    torch::Tensor p = torch::zeros({static_cast<int64_t>(grad.size())}, torch::requires_grad());
    p.mutable_grad() = torch::tensor(grad);
    return p;
}

}  // namespace

TEST(GradScaler, ScalesTheLossAndUnscalesGradientsExactly) {
    GradScaler scaler(true, {.init_scale = 1024.0});
    torch::Tensor loss = torch::tensor(0.75f);
    EXPECT_EQ(scaler.scale(loss).item<float>(), 768.0f);
    torch::Tensor a = param_with_grad({1024.0f, -3072.0f}), b = param_with_grad({0.5f});
    torch::Tensor no_grad = torch::zeros({3}, torch::requires_grad());  // undefined grad: left alone
    EXPECT_TRUE(scaler.unscale({a, b, no_grad}));
    EXPECT_EQ(a.grad()[0].item<float>(), 1.0f);
    EXPECT_EQ(a.grad()[1].item<float>(), -3.0f);
    EXPECT_EQ(b.grad()[0].item<float>(), 0.5f / 1024.0f);
    EXPECT_FALSE(no_grad.grad().defined());
    scaler.update();
    EXPECT_EQ(scaler.scale_value(), 1024.0);
    EXPECT_EQ(scaler.skipped_steps(), 0);
}

TEST(GradScaler, NonFiniteGradientsSkipTheStepAndBackOff) {
    GradScaler scaler(true, {.init_scale = 256.0, .backoff_factor = 0.25});
    for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                      std::numeric_limits<float>::quiet_NaN()}) {
        const double before = scaler.scale_value();
        torch::Tensor a = param_with_grad({1.0f, bad}), b = param_with_grad({2.0f});
        EXPECT_FALSE(scaler.unscale({b, a}));
        scaler.update();
        EXPECT_EQ(scaler.scale_value(), before * 0.25);
    }
    EXPECT_EQ(scaler.skipped_steps(), 3);
    torch::Tensor ok = param_with_grad({4.0f});
    EXPECT_TRUE(scaler.unscale({ok}));                   // one bad step does not stick
    EXPECT_EQ(ok.grad()[0].item<float>(), 4.0f / 4.0f);  // 256 · 0.25³ = 4
}

TEST(GradScaler, GrowsAfterTheIntervalOfFiniteStepsAndABadStepRestartsTheCount) {
    GradScaler scaler(true, {.init_scale = 8.0, .growth_factor = 2.0, .backoff_factor = 0.5, .growth_interval = 3});
    auto step = [&](float g) {
        torch::Tensor p = param_with_grad({g});
        scaler.unscale({p});
        scaler.update();
        return scaler.scale_value();
    };
    EXPECT_EQ(step(1), 8.0);
    EXPECT_EQ(step(1), 8.0);
    EXPECT_EQ(step(1), 16.0);  // third finite step in a row
    EXPECT_EQ(step(1), 16.0);
    EXPECT_EQ(step(std::nanf("")), 8.0);  // back-off, count restarts
    EXPECT_EQ(step(1), 8.0);
    EXPECT_EQ(step(1), 8.0);
    EXPECT_EQ(step(1), 16.0);
}

TEST(GradScaler, DisabledIsTheIdentity) {
    GradScaler scaler(false);
    torch::Tensor loss = torch::tensor(0.3f);
    EXPECT_TRUE(scaler.scale(loss).is_same(loss));
    torch::Tensor p = param_with_grad({std::nanf(""), 5.0f});
    EXPECT_TRUE(scaler.unscale({p}));  // not even looked at
    EXPECT_EQ(p.grad()[1].item<float>(), 5.0f);
    scaler.update();
    EXPECT_EQ(scaler.skipped_steps(), 0);
}

TEST(GradScaler, RejectsNonsenseOptions) {
    EXPECT_THROW(GradScaler(true, {.init_scale = 0.0}), std::invalid_argument);
    EXPECT_THROW(GradScaler(true, {.growth_factor = 1.0}), std::invalid_argument);
    EXPECT_THROW(GradScaler(true, {.backoff_factor = 1.0}), std::invalid_argument);
    EXPECT_THROW(GradScaler(true, {.growth_interval = 0}), std::invalid_argument);
}

// fp16 autocast with a scale of 2^40: the fp16 activation gradients overflow, the scaler skips those
// steps and halves the scale until they are finite, then the fp32 master weights train: the loss
// falls. Without skipping, the first step would write inf/NaN into the weights.
TEST(GradScaler, Fp16LoopRecoversFromAScaleFarTooLarge) {
    const torch::Device device(lorica::testing::test_device() == "cpu" ? "cpu" : lorica::testing::test_device());
    torch::manual_seed(3);
    torch::nn::Sequential net(torch::nn::Linear(16, 64), torch::nn::ReLU(), torch::nn::Linear(64, 4));
    net->to(device);
    torch::Tensor x = torch::randn({64, 16}).to(device);
    torch::Tensor y = torch::randint(0, 4, {64}, torch::kInt64).to(device);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1));
    GradScaler scaler(true, {.init_scale = std::ldexp(1.0, 40), .growth_interval = 1000});
    std::vector<float> losses;
    for (int step = 0; step < 60; ++step) {
        opt.zero_grad();
        torch::Tensor loss;
        {
            AutocastScope autocast(Precision::fp16, device);
            loss = torch::nn::functional::cross_entropy(net->forward(x), y);
        }
        EXPECT_EQ(loss.scalar_type(), torch::kFloat);  // cross-entropy runs in fp32 under autocast
        scaler.scale(loss).backward();
        if (scaler.unscale(net->parameters())) opt.step();
        scaler.update();
        losses.push_back(loss.item<float>());
    }
    for (const auto& p : net->parameters()) {
        EXPECT_EQ(p.scalar_type(), torch::kFloat);  // master weights stay fp32
        EXPECT_TRUE(torch::isfinite(p).all().item<bool>());
    }
    EXPECT_GT(scaler.skipped_steps(), 0);
    EXPECT_LT(scaler.scale_value(), std::ldexp(1.0, 40));
    EXPECT_GE(scaler.scale_value(), 1.0);
    EXPECT_LT(losses.back(), 0.8f * losses.front()) << losses.front() << " → " << losses.back();
}
