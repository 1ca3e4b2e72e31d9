#pragma once
// Builds the optimizer of one task (a fresh one per task) from parameter groups, and sets each
// group's lr from its peak lr × the schedule's multiplier.

#include <memory>
#include <vector>

#include <torch/optim/optimizer.h>

#include "engine/config/experiment_config.h"
#include "engine/methods/adapter_method.h"

namespace lorica {

struct TaskOptimizer {
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    std::vector<double> peak_lr;  // per group, in group order

    // Sets every group's lr to peak × multiplier; returns the first group's lr.
    double set_lr_multiplier(double multiplier);
};

// Empty groups are skipped. Throws std::invalid_argument when no group has parameters.
TaskOptimizer make_optimizer(const OptimizerConfig& config, const std::vector<ParamGroup>& groups);

}  // namespace lorica
