#pragma once
// The torch-free half of reading a PEFT LoRA directory (peft_adapter.h): adapter_config.json and
// adapter_model.safetensors checked against each other, giving each module's two factors as views
// into the safetensors file, its rank and its scale. peft_adapter.cpp turns these into AdapterTerms;
// bench/fuzz_peft_adapter.cpp fuzzes this directly.
//
// Checked here, every failure a PeftLayoutError naming the file and the field, tensor or module:
//   config: a JSON object; peft_type "LORA"; use_dora absent or false; bias absent or "none";
//           r a positive integer; lora_alpha a finite number; use_rslora a boolean;
//           rank_pattern / alpha_pattern objects of positive integers / finite numbers
//   weights: every tensor named base_model.model.<module>.lora_{A,B}.weight, each module with both,
//           A [r, in] and B [out, r] (2-D, the same r, r equal to the config's rank for the module,
//           in ≥ 1, out ≥ 1), or a Conv2d LoRA: A [r, C, k, k] (square kernel) and B [out, r, 1, 1];
//           at least one module
// Scale: alpha / r, or alpha / √r with use_rslora (PEFT's scaling).

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"

namespace lorica {

class PeftLayoutError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

inline constexpr const char* kPeftTensorPrefix = "base_model.model.";

struct PeftModuleFactors {
    std::string module;             // e.g. "blocks.0.attn.qkv"
    const TensorView* A = nullptr;  // [r, in] (conv: [r, C, k, k]), a view into the weights file
    const TensorView* B = nullptr;  // [out, r] (conv: [out, r, 1, 1])
    int64_t kernel_size = 0;        // conv: k; 0 = a linear layer's LoRA
    int64_t rank = 0;               // r
    double scale = 1.0;             // alpha / r (alpha / √r with use_rslora)
};

struct PeftLayout {
    std::string method;                      // the weights' "lorica.method" metadata, else "peft"
    nlohmann::json base_model_name_or_path;  // as in the config (null when absent)
    std::vector<PeftModuleFactors> modules;  // in the weights file's data order
};

// `config_name` and `weights` name the files in errors (weights.path()). The views in the result
// point into `weights`, which must outlive it.
PeftLayout read_peft_layout(const nlohmann::json& config, const std::string& config_name,
                            const SafetensorsFile& weights);

}  // namespace lorica
