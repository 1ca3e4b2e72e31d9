#pragma once
// O-LoRA's options (`method.options` of o-lora; engine/methods/o_lora.h describes the method): the
// declaration and the parser. Torch-free, so `lorica-cli config` and `methods --options` check and
// print them without LibTorch.

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

struct OLoRAOptions {
    double lambda_orth = 0.5;  // λ₁ of Σ_sites Σ |A_old A_newᵀ| (the released scripts: 0.5)
    double lambda_l2 = 0.0;    // λ₂ of Σ ‖A_new‖_F + ‖B_new‖_F (the released scripts: 0)

    static const MethodOptionSchema& schema();
    // Reads `method.options` through schema(); throws ConfigError("method.options.<name>", ...).
    static OLoRAOptions from_config(const ExperimentConfig& config);
};

}  // namespace lorica
