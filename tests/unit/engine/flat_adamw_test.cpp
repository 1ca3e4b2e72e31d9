// FlatAdamW (engine/train/flat_adamw.h) against torch::optim::AdamW on twin models: 100 steps, two
// groups with their own lr and weight decay, the lr changed every step through param_groups(), a
// parameter that has a gradient only every other step (skipped, its step count behind) and a 0-dim
// one; then what the flat buffers must not change: version counters bumped by a step, parameters
// owning their storage again after the optimizer, a replaced parameter caught, bad groups refused.
#include <gtest/gtest.h>

#include <cmath>

#include <torch/torch.h>

#include "engine/train/flat_adamw.h"
#include "engine/train/optimizer_factory.h"

using namespace lorica;

namespace {

// w1 [16, 7], b1 [16], gain [] (0-dim), sometimes [3], w2 [5, 16], b2 [5].
struct Twin {
    std::vector<torch::Tensor> params;
    explicit Twin(uint64_t seed) {
        torch::manual_seed(seed);
        for (auto shape : std::vector<std::vector<int64_t>>{{16, 7}, {16}, {}, {3}, {5, 16}, {5}})
            params.push_back((torch::randn(shape) * 0.5).set_requires_grad(true));
    }
    torch::Tensor loss(const torch::Tensor& x, const torch::Tensor& y, bool use_sometimes) const {
        torch::Tensor h = torch::tanh(torch::nn::functional::linear(x, params[0], params[1]) * params[2]);
        if (use_sometimes) h = h + params[3].sum();
        return torch::nn::functional::cross_entropy(torch::nn::functional::linear(h, params[4], params[5]), y);
    }
    std::vector<torch::optim::OptimizerParamGroup> groups() const {
        std::vector<torch::optim::OptimizerParamGroup> out;
        out.emplace_back(std::vector<torch::Tensor>{params[0], params[1], params[2], params[3]},
                         std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(1e-2).weight_decay(0.05)));
        out.emplace_back(std::vector<torch::Tensor>{params[4], params[5]},
                         std::make_unique<torch::optim::AdamWOptions>(
                             torch::optim::AdamWOptions(3e-3).weight_decay(0.0).betas({0.8, 0.99})));
        return out;
    }
};

double max_abs_diff(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    double m = 0.0;
    for (size_t i = 0; i < a.size(); ++i) m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
    return m;
}

}  // namespace

TEST(FlatAdamW, MatchesTorchAdamWOver100Steps) {
    Twin reference(7), flat(7);
    const std::vector<torch::Tensor> initial = [&] {
        std::vector<torch::Tensor> v;
        for (const auto& p : reference.params) v.push_back(p.detach().clone());
        return v;
    }();
    torch::optim::AdamW torch_opt(reference.groups(), torch::optim::AdamWOptions(1e-3));
    FlatAdamW flat_opt(flat.groups(), torch::optim::AdamWOptions(1e-3));
    const double peak[2] = {1e-2, 3e-3};
    torch::manual_seed(11);
    for (int step = 0; step < 100; ++step) {
        const torch::Tensor x = torch::randn({32, 7});
        const torch::Tensor y = torch::randint(0, 5, {32}, torch::kInt64);
        const double multiplier = 0.5 * (1.0 + std::cos(M_PI * step / 100.0));
        const bool even = step % 2 == 0;
        for (torch::optim::Optimizer* opt : {static_cast<torch::optim::Optimizer*>(&torch_opt),
                                             static_cast<torch::optim::Optimizer*>(&flat_opt)}) {
            for (size_t g = 0; g < 2; ++g) opt->param_groups()[g].options().set_lr(peak[g] * multiplier);
            opt->zero_grad();
        }
        reference.loss(x, y, even).backward();
        flat.loss(x, y, even).backward();
        torch_opt.step();
        flat_opt.step();
    }
    const double diff = max_abs_diff(reference.params, flat.params);
    RecordProperty("max_abs_diff", std::to_string(diff));
    EXPECT_LE(diff, 1e-6);
    EXPECT_GT(max_abs_diff(flat.params, initial), 1e-2);  // the comparison is of trained parameters
    // `sometimes` had a gradient on the 50 even steps only; the others on all 100.
    EXPECT_EQ(flat_opt.step_count(0, 3), 50);
    EXPECT_EQ(flat_opt.step_count(0, 0), 100);
    EXPECT_EQ(flat_opt.step_count(1, 1), 100);
    const auto& torch_state = static_cast<const torch::optim::AdamWParamState&>(
        *torch_opt.state().at(reference.params[3].unsafeGetTensorImpl()));
    EXPECT_EQ(torch_state.step(), 50);
}

TEST(FlatAdamW, BumpsVersionsAndGivesStorageBack) {
    Twin model(3);
    const torch::Tensor x = torch::randn({8, 7});
    const torch::Tensor y = torch::randint(0, 5, {8}, torch::kInt64);
    std::vector<torch::Tensor> after;
    {
        FlatAdamW opt(model.groups(), torch::optim::AdamWOptions(1e-3));
        // While it lives, group 0's parameters share one storage.
        EXPECT_TRUE(model.params[0].storage().is_alias_of(model.params[1].storage()));
        const auto v0 = model.params[0]._version(), v4 = model.params[4]._version();
        model.loss(x, y, true).backward();
        opt.step();
        EXPECT_GT(model.params[0]._version(), v0);
        EXPECT_GT(model.params[4]._version(), v4);
        for (const auto& p : model.params) after.push_back(p.detach().clone());
    }
    for (size_t i = 0; i < model.params.size(); ++i) {
        const torch::Tensor& p = model.params[i];
        EXPECT_EQ(p.storage().nbytes(), static_cast<size_t>(p.numel()) * p.element_size()) << "parameter " << i;
        EXPECT_TRUE(torch::equal(p, after[i])) << "parameter " << i;
        EXPECT_TRUE(p.requires_grad());
    }
    EXPECT_FALSE(model.params[0].storage().is_alias_of(model.params[1].storage()));
}

TEST(FlatAdamW, RefusesReplacedDataAndDuplicateParameters) {
    Twin model(5);
    {
        FlatAdamW opt(model.groups(), torch::optim::AdamWOptions(1e-3));
        model.loss(torch::randn({4, 7}), torch::randint(0, 5, {4}, torch::kInt64), true).backward();
        model.params[1].set_data(model.params[1].detach().clone());  // no longer a view of the buffer
        EXPECT_THROW(opt.step(), std::logic_error);
    }
    std::vector<torch::optim::OptimizerParamGroup> twice;
    twice.emplace_back(std::vector<torch::Tensor>{model.params[0], model.params[0]},
                       std::make_unique<torch::optim::AdamWOptions>(1e-3));
    EXPECT_THROW(FlatAdamW(twice, torch::optim::AdamWOptions(1e-3)), std::invalid_argument);
    std::vector<torch::optim::OptimizerParamGroup> mixed;
    mixed.emplace_back(std::vector<torch::Tensor>{model.params[0], torch::zeros({2}, torch::kFloat64).requires_grad_()},
                       std::make_unique<torch::optim::AdamWOptions>(1e-3));
    EXPECT_THROW(FlatAdamW(mixed, torch::optim::AdamWOptions(1e-3)), std::invalid_argument);
}

TEST(FlatAdamW, IsWhatTheFactoryBuildsForAdamW) {
    Twin model(9);
    OptimizerConfig config;
    config.name = "adamw";
    TaskOptimizer opt = make_optimizer(config, {{"a", {model.params[0], model.params[1]}, 1e-2, 0.05},
                                                {"b", {model.params[4]}, 2e-3, 0.0}});
    ASSERT_NE(dynamic_cast<FlatAdamW*>(opt.optimizer.get()), nullptr);
    EXPECT_DOUBLE_EQ(opt.set_lr_multiplier(0.5), 5e-3);
    EXPECT_DOUBLE_EQ(opt.optimizer->param_groups()[1].options().get_lr(), 1e-3);
}
