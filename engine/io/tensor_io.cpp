#include "engine/io/tensor_io.h"

#include <cstring>

#include <torch/torch.h>

namespace lorica {

TensorData tensor_to_data(const std::string& name, const torch::Tensor& tensor) {
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    TensorData out;
    out.name = name;
    out.shape = t.sizes().vec();
    if (t.is_floating_point()) {
        t = t.to(torch::kFloat32).contiguous();
        out.dtype = Dtype::F32;
    } else if (t.scalar_type() == torch::kInt64) {
        out.dtype = Dtype::I64;
    } else if (t.scalar_type() == torch::kUInt8) {
        out.dtype = Dtype::U8;
    } else if (t.scalar_type() == torch::kBool) {
        out.dtype = Dtype::BOOL;
    } else {
        throw SafetensorsError("tensor \"" + name + "\": dtype " + std::string(c10::toString(t.scalar_type())) +
                               " cannot be written (allowed: float types, int64, uint8, bool)");
    }
    const size_t bytes = static_cast<size_t>(t.numel()) * t.element_size();
    out.bytes.resize(bytes);
    if (bytes) std::memcpy(out.bytes.data(), t.data_ptr(), bytes);
    return out;
}

torch::Tensor view_to_float_tensor(const TensorView& view) {
    std::vector<float> values = to_float(view);
    torch::Tensor t = torch::empty(view.shape, torch::kFloat32);
    if (!values.empty()) std::memcpy(t.data_ptr<float>(), values.data(), values.size() * sizeof(float));
    return t;
}

void save_tensors(const std::string& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata) {
    std::vector<TensorData> data;
    data.reserve(tensors.size());
    for (const auto& [name, t] : tensors) data.push_back(tensor_to_data(name, t));
    write_safetensors(path, data, metadata);
}

}  // namespace lorica
