#pragma once
// EWC-LoRA's options (`method.options` of ewc-lora; engine/methods/ewc_lora.h describes the method):
// the declaration and the parser. Torch-free, so `lorica-cli config` and `methods --options` check and
// print them without LibTorch.

#include <cstdint>

#include "engine/config/enum_names.h"
#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

// method.options.fold: how a task's pair joins the model at its end. weights: W ← W + s·B A exactly
// (the paper's W_t = W_{t-1} + ΔW_t); factor-sum: the released code's accumulated pair
// (A_acc += A, B_acc += B, kept as a frozen term s·B_acc A_acc, with cross terms between tasks).
enum class EWCLoRAFold { weights, factor_sum };
inline constexpr EnumNames<EWCLoRAFold, 2> kEWCLoRAFoldNames{
    {{EWCLoRAFold::weights, "weights"}, {EWCLoRAFold::factor_sum, "factor-sum"}}};

struct EWCLoRAOptions {
    double lambda = 1e7;         // λ of the penalty (λ/2) Σ Ω ⊙ ΔW² (the released ImageNet-R config: 1e7)
    double gamma = 1.0;          // decay of the old importance: Ω ← γ Ω + F (released configs: 1.0)
    int64_t fisher_batches = 0;  // batches of the task's training data the Fisher averages; 0 = all
    EWCLoRAFold fold = EWCLoRAFold::weights;

    static const MethodOptionSchema& schema();
    // Reads `method.options` through schema(); throws ConfigError("method.options.<name>", ...).
    static EWCLoRAOptions from_config(const ExperimentConfig& config);
};

}  // namespace lorica
