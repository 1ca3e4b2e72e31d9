#include "engine/io/adapter_set.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

#include <torch/torch.h>

#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

LoRALinear find_layer(Backbone model, const std::string& module) {
    for (auto& [name, layer] : model->lora_layers())
        if (name == module) return layer;
    throw std::invalid_argument("adapter term for module '" + module +
                                "': the model has no such linear layer (a different ViT depth?)");
}

}  // namespace

double AdapterSet::coefficient(size_t i) const {
    const AdapterTerm& t = terms.at(i);
    double c = t.scale;
    if (t.magnitude_index >= 0) c *= magnitudes.at(static_cast<size_t>(t.magnitude_index));
    return c;
}

std::vector<std::string> AdapterSet::modules() const {
    std::vector<std::string> out;
    for (const auto& t : terms)
        if (std::find(out.begin(), out.end(), t.module) == out.end()) out.push_back(t.module);
    return out;
}

torch::Tensor AdapterSet::delta(const std::string& module) const {
    torch::Tensor total;
    for (size_t i = 0; i < terms.size(); ++i) {
        const AdapterTerm& t = terms[i];
        if (t.module != module) continue;
        if (!total.defined()) total = torch::zeros({t.out_features, t.in_features()}, torch::kFloat64);
        total.narrow(0, t.row_offset, t.rows())
            .add_(t.B.to(torch::kFloat64).matmul(t.A.to(torch::kFloat64)).mul(coefficient(i)));
    }
    return total.defined() ? total.to(torch::kFloat32) : total;
}

AdapterSet AdapterSet::terms_of_task(int task) const {
    AdapterSet out = *this;
    out.terms.clear();
    for (const auto& t : terms)
        if (t.task == task) out.terms.push_back(t);
    return out;
}

bool AdapterSet::has_per_task_terms() const {
    return std::any_of(terms.begin(), terms.end(), [](const AdapterTerm& t) { return t.task >= 0; });
}

AdapterSet AdapterSet::from_model(Backbone model, const std::string& method) {
    AdapterSet set;
    set.method = method;
    std::unordered_map<const void*, int> magnitude_ids;  // shared magnitude tensors → index
    for (auto& [name, layer] : model->lora_layers()) {
        for (const LowRankTerm& live : layer->terms()) {
            AdapterTerm t;
            t.module = name;
            t.out_features = layer->options.out_features();
            t.row_offset = live.row_offset;
            t.A = live.A.detach().to(torch::kCPU, torch::kFloat32).clone();
            t.B = live.B.detach().to(torch::kCPU, torch::kFloat32).clone();
            t.scale = live.scale;
            t.tag = live.tag;
            t.task = live.task;
            t.frozen = !live.trainable_factors();
            t.kernel_size = layer->options.kernel_size();
            if (live.magnitude.defined()) {
                const void* key = live.magnitude.unsafeGetTensorImpl();
                auto it = magnitude_ids.find(key);
                if (it == magnitude_ids.end()) {
                    it = magnitude_ids.emplace(key, static_cast<int>(set.magnitudes.size())).first;
                    set.magnitudes.push_back(read_scalar(live.magnitude.detach()));
                }
                t.magnitude_index = it->second;
            }
            set.terms.push_back(std::move(t));
        }
    }
    return set;
}

void AdapterSet::apply_to(Backbone model, torch::Device device) const {
    std::vector<torch::Tensor> shared;
    for (double m : magnitudes)
        shared.push_back(torch::scalar_tensor(m, torch::TensorOptions().dtype(torch::kFloat32).device(device)));
    for (const AdapterTerm& t : terms) {
        LoRALinear layer = find_layer(model, t.module);
        if (layer->options.out_features() != t.out_features || layer->options.in_features() != t.in_features())
            throw std::invalid_argument("adapter term for module '" + t.module + "' fits a [" +
                                        std::to_string(t.out_features) + ", " + std::to_string(t.in_features()) +
                                        "] layer, the model's is [" + std::to_string(layer->options.out_features()) +
                                        ", " + std::to_string(layer->options.in_features()) + "]");
        LowRankTerm live;
        live.A = t.A.to(device).clone();
        live.B = t.B.to(device).clone();
        live.scale = t.scale;
        live.row_offset = t.row_offset;
        live.tag = t.tag;
        live.task = t.task;
        if (t.magnitude_index >= 0) live.magnitude = shared.at(static_cast<size_t>(t.magnitude_index));
        layer->add_term(std::move(live));
    }
}

nlohmann::json adapter_set_json(const AdapterSet& set) {
    nlohmann::json terms = nlohmann::json::array();
    for (const auto& t : set.terms) {
        terms.push_back({{"module", t.module},
                         {"out_features", t.out_features},
                         {"in_features", t.in_features()},
                         {"row_offset", t.row_offset},
                         {"rank", t.rank()},
                         {"rows", t.rows()},
                         {"scale", t.scale},
                         {"magnitude_index", t.magnitude_index},
                         {"task", t.task},
                         {"tag", t.tag},
                         {"frozen", t.frozen},
                         {"has_mask", t.mask.defined()}});
        if (t.kernel_size > 0) terms.back()["kernel_size"] = t.kernel_size;  // conv terms only: ViT files unchanged
    }
    return {{"format", 1},      {"method", set.method}, {"base", set.base}, {"magnitudes", set.magnitudes},
            {"meta", set.meta}, {"terms", terms}};
}

void save_adapter_set(const std::string& path, const AdapterSet& set) {
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (size_t i = 0; i < set.terms.size(); ++i) {
        const std::string prefix = "terms." + std::to_string(i) + ".";
        tensors.emplace_back(prefix + "A", set.terms[i].A);
        tensors.emplace_back(prefix + "B", set.terms[i].B);
        if (set.terms[i].mask.defined()) tensors.emplace_back(prefix + "mask", set.terms[i].mask.to(torch::kBool));
    }
    save_tensors(path, tensors, {{kAdapterSetMetadataKey, adapter_set_json(set).dump()}});
}

AdapterSet load_adapter_set(const std::string& path) {
    SafetensorsFile file = SafetensorsFile::open(path);
    auto it = file.metadata().find(kAdapterSetMetadataKey);
    if (it == file.metadata().end())
        throw std::runtime_error(path + ": no \"" + std::string(kAdapterSetMetadataKey) +
                                 "\" metadata entry (not a Lorica adapter set file)");
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(it->second);
        AdapterSet set;
        if (doc.at("format").get<int>() != 1)
            throw std::runtime_error("format " + doc.at("format").dump() + " is not supported (expected 1)");
        set.method = doc.at("method").get<std::string>();
        set.base = doc.value("base", std::string("live"));
        set.magnitudes = doc.at("magnitudes").get<std::vector<double>>();
        set.meta = doc.value("meta", nlohmann::json::object());
        const auto& terms = doc.at("terms");
        for (size_t i = 0; i < terms.size(); ++i) {
            const auto& j = terms[i];
            const std::string prefix = "terms." + std::to_string(i) + ".";
            AdapterTerm t;
            t.module = j.at("module").get<std::string>();
            t.out_features = j.at("out_features").get<int64_t>();
            t.row_offset = j.at("row_offset").get<int64_t>();
            t.scale = j.at("scale").get<double>();
            t.magnitude_index = j.at("magnitude_index").get<int>();
            t.task = j.at("task").get<int>();
            t.tag = j.at("tag").get<std::string>();
            t.frozen = j.value("frozen", true);
            t.kernel_size = j.value("kernel_size", int64_t{0});
            t.A = view_to_float_tensor(file.tensor(prefix + "A"));
            t.B = view_to_float_tensor(file.tensor(prefix + "B"));
            if (j.value("has_mask", false))
                t.mask = view_to_float_tensor(file.tensor(prefix + "mask")).to(torch::kBool);
            if (t.A.dim() != 2 || t.B.dim() != 2 || t.B.size(1) != t.A.size(0))
                throw std::runtime_error("term " + std::to_string(i) + " (" + t.module + "): A " +
                                         format_shape(t.A.sizes().vec()) + " and B " + format_shape(t.B.sizes().vec()) +
                                         " are not [r, in] and [rows, r]");
            if (t.row_offset < 0 || t.row_offset + t.rows() > t.out_features)
                throw std::runtime_error("term " + std::to_string(i) + " (" + t.module + "): rows [" +
                                         std::to_string(t.row_offset) + ", " + std::to_string(t.row_offset + t.rows()) +
                                         ") exceed out_features " + std::to_string(t.out_features));
            if (t.magnitude_index >= static_cast<int>(set.magnitudes.size()))
                throw std::runtime_error("term " + std::to_string(i) + ": magnitude_index " +
                                         std::to_string(t.magnitude_index) + " but only " +
                                         std::to_string(set.magnitudes.size()) + " magnitudes");
            set.terms.push_back(std::move(t));
        }
        return set;
    } catch (const SafetensorsError&) {
        throw;
    } catch (const std::exception& e) {
        throw std::runtime_error(path + ": invalid \"" + std::string(kAdapterSetMetadataKey) + "\" entry: " + e.what());
    }
}

}  // namespace lorica
