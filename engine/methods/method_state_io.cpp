#include "engine/methods/method_state_io.h"

#include <torch/torch.h>

namespace lorica {

void put_weight_snapshot(StateSnapshot& state, const std::string& prefix, const WeightSnapshot& snapshot) {
    for (const auto& [module, w] : snapshot.merged) state.put(prefix + module, w);
}

WeightSnapshot get_weight_snapshot(const StateSnapshot& state, const std::string& prefix, torch::Device device) {
    WeightSnapshot out;
    for (const auto& [name, t] : state.tensors)
        if (name.rfind(prefix, 0) == 0) out.merged[name.substr(prefix.size())] = t.to(device).clone();
    return out;
}

torch::Tensor get_shaped(const StateSnapshot& state, const std::string& name, const torch::Tensor& like) {
    torch::Tensor t = state.get(name, like.device());
    if (t.sizes() != like.sizes())
        throw std::runtime_error("tensor '" + name + "' of the method state has shape " + c10::str(t.sizes()) +
                                 ", the model expects " + c10::str(like.sizes()));
    return t.to(like.scalar_type());
}

const nlohmann::json& meta_at(const StateSnapshot& state, const std::string& key) {
    if (!state.meta.contains(key)) throw std::runtime_error("the method state has no field '" + key + "'");
    return state.meta.at(key);
}

}  // namespace lorica
