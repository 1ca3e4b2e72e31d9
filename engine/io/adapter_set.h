#pragma once
// AdapterSet: every low-rank update term of a model, detached from the model, with what is needed to
// put it back exactly (module, rows, scale, shared magnitudes, masks, owning task).
//
// A term k of module m adds to the rows [row_offset, row_offset + rows) of m's weight
//
//     ΔW_k = scale_k · magnitude[magnitude_index_k] · B_k A_k          A_k [r, in], B_k [rows, r]
//
// (magnitude = 1 when magnitude_index_k = -1). This is LowRankTerm's formula; magnitudes that are one
// shared tensor in the live model (SD-LoRA's α_k, shared by all adapted matrices) share one index.
//
// Where it comes from:
//   - `AdapterSet::from_model` walks the live terms of `model->lora_layers()` (the default of
//     AdapterMethod::adapter_set); each term keeps its LowRankTerm::task.
//   - a method that folds its adapters into W (merged incremental LoRA) keeps the factors and
//     returns them itself: the terms are then relative to the *foundation* weights, and
//     `base = "foundation"` says so (default "live": relative to the weights the model holds now).
// Where it goes: `save_adapter_set` / `load_adapter_set` (a safetensors file: tensors
// "terms.<i>.A", "terms.<i>.B", "terms.<i>.mask", metadata "lorica.adapter_set" = JSON of the
// rest; lossless), PEFT export (peft_export.h), and back into a model with `apply_to`.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "engine/model/backbone.h"

namespace lorica {

struct AdapterTerm {
    std::string module;        // timm module name, e.g. "blocks.0.attn.qkv"
    int64_t out_features = 0;  // the module's full output width (3·dim for a fused qkv)
    int64_t row_offset = 0;    // first output row the update writes
    torch::Tensor A;           // float32 CPU [r, in]
    torch::Tensor B;           // float32 CPU [rows, r]
    torch::Tensor mask;        // optional bool CPU [rows, r]: entries of B that may be non-zero (LoRI-S)
    double scale = 1.0;        // constant factor (alpha / r, or 1/‖B A‖_F for a direction)
    int magnitude_index = -1;  // index into AdapterSet::magnitudes, -1 = no magnitude (= 1)
    int task = -1;             // task that created the term (-1 unknown)
    std::string tag;           // the live term's tag
    bool frozen = true;        // true: A and B did not train when the set was taken
    int64_t kernel_size = 0;   // a conv's k (A's columns: the k×k kernel flattened as (C, kh, kw)); 0 = linear

    int64_t rank() const { return A.size(0); }
    int64_t rows() const { return B.size(0); }
    int64_t in_features() const { return A.size(1); }
};

struct AdapterSet {
    std::string method;                              // method name, e.g. "sd-lora"
    std::string base = "live";                       // "live" | "foundation": which weights the terms add to
    std::vector<double> magnitudes;                  // values of the shared magnitudes
    std::vector<AdapterTerm> terms;                  // in model order
    nlohmann::json meta = nlohmann::json::object();  // method description, task boundaries, config hash, ...

    bool empty() const { return terms.empty(); }
    // Coefficient of term i: scale · magnitude (1 when none).
    double coefficient(size_t i) const;
    // Modules with at least one term, in first-appearance order.
    std::vector<std::string> modules() const;
    // Σ ΔW_k of one module's terms, [out_features, in] float32 (zeros where no term writes).
    torch::Tensor delta(const std::string& module) const;
    // Exactly the terms created by `task` (terms of other tasks and terms of no task dropped); the
    // magnitudes stay whole so magnitude indices keep their meaning.
    AdapterSet terms_of_task(int task) const;
    // True when at least one term belongs to one task (task ≥ 0): the set can be split per task.
    bool has_per_task_terms() const;

    // Every live term of the model's LoRALinear layers (factors copied, detached, on the CPU).
    static AdapterSet from_model(Backbone model, const std::string& method);
    // Adds every term to the model as a frozen LowRankTerm (shared magnitudes become one shared
    // 0-dim tensor each), on `device`. Throws std::invalid_argument naming the module when the model
    // has no such layer or the shapes do not fit.
    void apply_to(Backbone model, torch::Device device = torch::kCPU) const;
};

// The JSON (without tensors) of a set: {"format": 1, method, base, magnitudes, meta, terms: [...]}.
nlohmann::json adapter_set_json(const AdapterSet& set);

// Metadata key holding adapter_set_json in a Lorica adapter file.
inline constexpr const char* kAdapterSetMetadataKey = "lorica.adapter_set";

// Writes the set to a safetensors file (lossless). Throws SafetensorsError on I/O errors.
void save_adapter_set(const std::string& path, const AdapterSet& set);
// Reads a file written by save_adapter_set. Throws std::runtime_error naming the file and the
// entry on a missing/invalid metadata entry or tensor.
AdapterSet load_adapter_set(const std::string& path);

}  // namespace lorica
