#pragma once
// Conversions between LibTorch tensors and safetensors entries, and whole-file helpers.
//
// Tensors are written as float32 (or their own dtype for int64/uint8/bool), contiguous, on the CPU.
// Reading converts any float dtype of the file (F16, BF16, F64, ...) to float32.

#include <map>
#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/io/safetensors.h"

namespace lorica {

// A tensor as a safetensors entry (copied to the CPU; float tensors stored as F32, bool as BOOL,
// int64 as I64, uint8 as U8). Throws SafetensorsError naming the tensor for other dtypes.
TensorData tensor_to_data(const std::string& name, const torch::Tensor& tensor);

// A tensor of a file as a new float32 CPU tensor of the file's shape (BOOL → 0/1).
torch::Tensor view_to_float_tensor(const TensorView& view);

// Writes named tensors (and metadata) to `path` (atomic, see write_safetensors).
void save_tensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata = {});

}  // namespace lorica
