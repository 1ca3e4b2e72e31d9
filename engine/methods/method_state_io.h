#pragma once
// Helpers the methods share to write their state for resuming (AdapterMethod::save_state /
// restore_state): weight snapshots under a name prefix, and checks that a restored tensor fits.

#include <string>

#include "engine/io/resume_state.h"
#include "engine/methods/merge_interpolation.h"

namespace lorica {

// Stores every merged weight of `snapshot` as "<prefix><module name>".
void put_weight_snapshot(StateSnapshot& state, const std::string& prefix, const WeightSnapshot& snapshot);
// The snapshot put_weight_snapshot stored under `prefix` (empty when none), tensors on `device`.
WeightSnapshot get_weight_snapshot(const StateSnapshot& state, const std::string& prefix, torch::Device device);

// state.get(name, device), checked to have `like`'s shape; throws std::runtime_error naming the tensor.
torch::Tensor get_shaped(const StateSnapshot& state, const std::string& name, const torch::Tensor& like);

// The meta field `key`; throws std::runtime_error naming it when absent.
const nlohmann::json& meta_at(const StateSnapshot& state, const std::string& key);

}  // namespace lorica
