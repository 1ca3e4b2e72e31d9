#include "engine/train/optimizer_factory.h"

#include <stdexcept>

#include <torch/optim.h>

namespace lorica {

double TaskOptimizer::set_lr_multiplier(double multiplier) {
    auto& groups = optimizer->param_groups();
    for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr(peak_lr[i] * multiplier);
    return peak_lr.empty() ? 0.0 : peak_lr[0] * multiplier;
}

TaskOptimizer make_optimizer(const OptimizerConfig& config, const std::vector<ParamGroup>& groups) {
    std::vector<torch::optim::OptimizerParamGroup> torch_groups;
    TaskOptimizer out;
    for (const auto& g : groups) {
        if (g.params.empty()) continue;
        std::unique_ptr<torch::optim::OptimizerOptions> options;
        if (config.name == "adamw") {
            options = std::make_unique<torch::optim::AdamWOptions>(
                torch::optim::AdamWOptions(g.lr).weight_decay(g.weight_decay).betas({config.beta1, config.beta2}));
        } else if (config.name == "adam") {
            options = std::make_unique<torch::optim::AdamOptions>(
                torch::optim::AdamOptions(g.lr).weight_decay(g.weight_decay).betas({config.beta1, config.beta2}));
        } else if (config.name == "sgd") {
            options = std::make_unique<torch::optim::SGDOptions>(
                torch::optim::SGDOptions(g.lr).weight_decay(g.weight_decay).momentum(config.momentum));
        } else {
            throw std::invalid_argument("unknown optimizer '" + config.name + "'");
        }
        torch_groups.emplace_back(g.params, std::move(options));
        out.peak_lr.push_back(g.lr);
    }
    if (torch_groups.empty()) throw std::invalid_argument("nothing to train: every parameter group is empty");
    if (config.name == "adamw")
        out.optimizer = std::make_unique<torch::optim::AdamW>(torch_groups, torch::optim::AdamWOptions(config.lr));
    else if (config.name == "adam")
        out.optimizer = std::make_unique<torch::optim::Adam>(torch_groups, torch::optim::AdamOptions(config.lr));
    else
        out.optimizer = std::make_unique<torch::optim::SGD>(torch_groups, torch::optim::SGDOptions(config.lr));
    return out;
}

}  // namespace lorica
