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
        switch (config.name) {
            case OptimizerAlgorithm::adamw:
                options = std::make_unique<torch::optim::AdamWOptions>(
                    torch::optim::AdamWOptions(g.lr).weight_decay(g.weight_decay).betas({config.beta1, config.beta2}));
                break;
            case OptimizerAlgorithm::adam:
                options = std::make_unique<torch::optim::AdamOptions>(
                    torch::optim::AdamOptions(g.lr).weight_decay(g.weight_decay).betas({config.beta1, config.beta2}));
                break;
            case OptimizerAlgorithm::sgd:
                options = std::make_unique<torch::optim::SGDOptions>(
                    torch::optim::SGDOptions(g.lr).weight_decay(g.weight_decay).momentum(config.momentum));
                break;
        }
        if (!options) throw std::invalid_argument("make_optimizer: an OptimizerAlgorithm without a case");
        torch_groups.emplace_back(g.params, std::move(options));
        out.peak_lr.push_back(g.lr);
    }
    if (torch_groups.empty()) throw std::invalid_argument("nothing to train: every parameter group is empty");
    switch (config.name) {
        case OptimizerAlgorithm::adamw:
            out.optimizer = std::make_unique<torch::optim::AdamW>(torch_groups, torch::optim::AdamWOptions(config.lr));
            break;
        case OptimizerAlgorithm::adam:
            out.optimizer = std::make_unique<torch::optim::Adam>(torch_groups, torch::optim::AdamOptions(config.lr));
            break;
        case OptimizerAlgorithm::sgd:
            out.optimizer = std::make_unique<torch::optim::SGD>(torch_groups, torch::optim::SGDOptions(config.lr));
            break;
    }
    return out;
}

}  // namespace lorica
