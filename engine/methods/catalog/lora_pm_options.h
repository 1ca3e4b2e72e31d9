#pragma once
// LoRA-P&M's options (`method.options` of lora-pm; engine/methods/lora_pm.h describes what each does):
// the declaration and the parser. Torch-free, so `lorica-cli config` and `methods --options` check
// and print them without LibTorch. The LoRA pair's own options (alpha_per_rank, dropout) are merged
// incremental LoRA's, declared once in merged_lora_options.h and read into `merged`.

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"
#include "engine/methods/catalog/merged_lora_options.h"

namespace lorica {

struct LoRAPMOptions {
    // The per-task LoRA pair and its merge: after_task = merge and update = lora always (LoRA-P&M
    // merges a scaled LoRA update); alpha_per_rank and dropout as merged-lora reads them.
    MergedLoRAOptions merged;
    double epsilon = 0.5;           // ε: a perturbed step trains at θ ± εΔ, Δ = s B_t A_t
    double p_plus = 1.0 / 3.0;      // p₊: probability of a step at θ + εΔ
    double p_minus = 1.0 / 3.0;     // p₋: probability of a step at θ − εΔ (p₀ = 1 − p₊ − p₋ at θ)
    int fisher_batches = 0;         // batches of the task's training data for the diagonal Fisher; 0 = all
    bool clamp_coefficient = true;  // clamp α* to [0, 1] (a convex combination of θ̂_{t−1} and θ_t*)

    static const MethodOptionSchema& schema();
    // Reads `method.options`; throws ConfigError("method.options.<name>", ...), also for p₊ + p₋ > 1.
    static LoRAPMOptions from_config(const ExperimentConfig& config);
};

}  // namespace lorica
