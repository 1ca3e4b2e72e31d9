// How a new task head starts (train.head_init, TaskHeads): `normal` draws N(0, 0.02²) exactly as the
// heads always did (the default experiment's rows depend on it), `kaiming-uniform` draws
// U(−√(3/features), √(3/features)) as torch.nn.init.kaiming_uniform_(w, nonlinearity='linear') does
// for the SD-LoRA code's SimpleLinear; both with bias 0 and from the head's own seed.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "engine/config/experiment_config.h"
#include "engine/model/task_heads.h"

using namespace lorica;

TEST(HeadInit, NormalIsTheSeededDrawTheHeadsAlwaysMade) {
    TaskHeads heads(8);  // the default: HeadInit::normal
    EXPECT_EQ(heads->init, HeadInit::normal);
    heads->add_head(3, 11, torch::kCPU);
    auto gen = at::detail::createCPUGenerator(11);
    const torch::Tensor expected = torch::randn({3, 8}, gen) * 0.02;
    EXPECT_TRUE(torch::equal(heads->head(0)->weight.detach(), expected)) << "bit for bit";
    EXPECT_TRUE(torch::equal(heads->head(0)->bias.detach(), torch::zeros({3})));
}

TEST(HeadInit, KaimingUniformHasTheLinearGainBoundAndVariance) {
    constexpr int64_t kFeatures = 64, kClasses = 500;
    TaskHeads heads(kFeatures, HeadInit::kaiming_uniform);
    heads->add_head(kClasses, 5, torch::kCPU);
    const torch::Tensor w = heads->head(0)->weight.detach().to(torch::kFloat64);
    const double bound = std::sqrt(3.0 / kFeatures);  // gain 1 · √3 / √fan_in = 0.21651
    EXPECT_NEAR(bound, 0.21650635, 1e-8);
    EXPECT_LE(w.abs().max().item<double>(), bound);
    EXPECT_GE(w.abs().max().item<double>(), 0.999 * bound) << "32,000 draws reach the bound";
    // U(−b, b): mean 0, variance b²/3 = 1/fan_in.
    EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.005);
    EXPECT_NEAR(w.var().item<double>(), 1.0 / kFeatures, 0.03 / kFeatures);
    EXPECT_TRUE(torch::equal(heads->head(0)->bias.detach(), torch::zeros({kClasses})));
    // Far wider than normal's 0.02.
    EXPECT_GT(w.std().item<double>(), 5 * 0.02);
}

TEST(HeadInit, KaimingUniformHeadsAreSeeded) {
    TaskHeads a(16, HeadInit::kaiming_uniform), b(16, HeadInit::kaiming_uniform);
    a->add_head(4, 21, torch::kCPU);
    a->add_head(4, 22, torch::kCPU);
    b->add_head(4, 21, torch::kCPU);
    EXPECT_TRUE(torch::equal(a->head(0)->weight, b->head(0)->weight)) << "same seed, same head";
    EXPECT_FALSE(torch::equal(a->head(0)->weight, a->head(1)->weight)) << "another seed, another head";
}
