#pragma once
// The baselines' options (engine/methods/baselines.h): sequential-lora's `interpolation_points` and
// `dropout`, and none for full-finetune and frozen-backbone. Torch-free, so `lorica-cli config` and
// `methods --options` check and print them without LibTorch.

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

// The (empty) option declaration of full-finetune and frozen-backbone.
const MethodOptionSchema& no_method_options();
// Throws ConfigError naming method.options.<name> for any option given.
void expect_no_method_options(const ExperimentConfig& config);

struct SequentialLoRAOptions {
    int interpolation_points = 11;  // λ points of the merge interpolation after tasks 0 and 1 (0 = off)
    double dropout = 0.0;           // PEFT's lora_dropout on the LoRA pair (LowRankTerm::dropout)

    static const MethodOptionSchema& schema();
    // Reads `method.options` through schema(); throws ConfigError("method.options.<name>", ...).
    static SequentialLoRAOptions from_config(const ExperimentConfig& config);
};

}  // namespace lorica
