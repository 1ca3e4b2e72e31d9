#pragma once
// PEFT adapter directories: export an AdapterSet in Hugging Face PEFT's LoRA layout, and read one back.
//
// Layout written by `export_peft_adapter(dir, set)`:
//   adapter_config.json          peft_type "LORA", r, lora_alpha, target_modules (full timm module
//                                names), rank_pattern / alpha_pattern for modules whose rank or alpha
//                                differ from the top-level r / lora_alpha, base_model_name_or_path
//   adapter_model.safetensors    base_model.model.<module>.lora_A.weight [R, in]
//                                base_model.model.<module>.lora_B.weight [out, R]
//                                (a conv module, AdapterTerm::kernel_size k > 0: PEFT's Conv2d LoRA,
//                                lora_A [R, C, k, k] and lora_B [out, R, 1, 1], A's columns being the
//                                kernel flattened as (C, kh, kw); read back the same way)
//   lorica_adapter.safetensors   the AdapterSet itself (adapter_set.h): every term's own A, B, mask,
//                                scale, shared magnitudes, task, plus the set's metadata, so Lorica
//                                re-imports losslessly (PEFT ignores this file)
//
// One PEFT LoRA per module, exact (no SVD): the module's terms are concatenated along the rank,
//   A = [A_1; A_2; ...]                      [Σ r_k, in]
//   B[rows of term k, columns of term k] = c_k · B_k, zeros elsewhere       [out, Σ r_k]
// so that B A = Σ_k c_k B_k A_k placed at each term's rows. A q and a v term on a fused qkv become one
// LoRA on `blocks.N.attn.qkv` whose B is zero in the rows the term does not touch (k rows: all zero).
// SD-LoRA's terms (shared magnitude α_k, scale 1/‖B_k A_k‖_F) export as one LoRA of rank Σ r_k with
// c_k = α_k · scale_k; LoRI-S's zeros in B stay zeros.
// Scaling: where every term of a module has the same scale s and no magnitude, B keeps its trained
// values and lora_alpha = s · R (PEFT's scaling alpha / R = s); otherwise c_k is folded into B and
// lora_alpha = R (scaling 1). Both are exact.
//
// Reading (`import_peft_adapter`): with `use_sidecar` and a lorica_adapter.safetensors present, that
// file (lossless); otherwise the PEFT files: one term per module, scale = alpha / r (alpha / √r with
// use_rslora), rows = all output rows. Errors name the file and the key; DoRA, bias training and
// embedding LoRAs are refused as not supported.

#include <string>

#include "engine/io/adapter_set.h"

namespace lorica {

struct PeftExportOptions {
    std::string base_model_name = "lorica/vit-tiny-patch7-28";  // base_model_name_or_path
    bool write_sidecar = true;                                  // also write lorica_adapter.safetensors
};

inline constexpr const char* kPeftConfigFile = "adapter_config.json";
inline constexpr const char* kPeftWeightsFile = "adapter_model.safetensors";
inline constexpr const char* kLoricaAdapterFile = "lorica_adapter.safetensors";

// Writes the directory (created if missing; existing files of the same names are replaced).
// Throws std::invalid_argument when the set is empty.
void export_peft_adapter(const std::string& dir, const AdapterSet& set, const PeftExportOptions& options = {});

// Reads a PEFT LoRA directory (see above). Throws std::runtime_error naming the file and key.
AdapterSet import_peft_adapter(const std::string& dir, bool use_sidecar = true);

// A human-readable summary of an adapter directory for `lorica-cli inspect DIR`: PEFT config,
// modules with rank and shapes, parameter count, and Lorica's metadata when the sidecar is there.
std::string describe_adapter_directory(const std::string& dir);

}  // namespace lorica
