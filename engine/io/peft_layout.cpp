#include "engine/io/peft_layout.h"

#include <cmath>

namespace lorica {
namespace {

using json = nlohmann::json;

// PEFT's pattern lookup: a key matches a module whose name is the key or ends with "." + key.
const json* pattern_entry(const json& patterns, const std::string& module) {
    for (auto it = patterns.begin(); it != patterns.end(); ++it) {
        const std::string& key = it.key();
        if (module == key ||
            (module.size() > key.size() && module.compare(module.size() - key.size(), key.size(), key) == 0 &&
             module[module.size() - key.size() - 1] == '.'))
            return &it.value();
    }
    return nullptr;
}

std::string shown(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

class ConfigFields {
public:
    ConfigFields(const json& config, const std::string& name) : config_(config), name_(name) {
        if (!config_.is_object()) fail("", "must be a JSON object, got " + std::string(config_.type_name()));
    }

    [[noreturn]] void fail(const std::string& key, const std::string& message) const {
        throw PeftLayoutError(name_ + (key.empty() ? "" : ": \"" + key + "\"") + ": " + message);
    }
    const json* find(const char* key) const {
        auto it = config_.find(key);
        return it == config_.end() ? nullptr : &*it;
    }
    const json& required(const char* key) const {
        if (const json* v = find(key)) return *v;
        throw PeftLayoutError(name_ + ": missing field \"" + key + "\"");
    }
    bool flag(const char* key) const {  // absent or null = false
        const json* v = find(key);
        if (!v || v->is_null()) return false;
        if (!v->is_boolean()) fail(key, "must be true or false, got " + shown(*v));
        return v->get<bool>();
    }
    int64_t rank(const json& v, const std::string& key) const {
        if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) ||
            v.get<int64_t>() < 1)
            fail(key, "must be a positive integer, got " + shown(v));
        return v.get<int64_t>();
    }
    double alpha(const json& v, const std::string& key) const {
        if (!v.is_number() || !std::isfinite(v.get<double>())) fail(key, "must be a finite number, got " + shown(v));
        return v.get<double>();
    }
    const json& patterns(const char* key) const {
        static const json empty = json::object();
        const json* v = find(key);
        if (!v || v->is_null()) return empty;
        if (!v->is_object()) fail(key, "must be an object (module → value), got " + shown(*v));
        return *v;
    }

private:
    const json& config_;
    const std::string& name_;
};

}  // namespace

PeftLayout read_peft_layout(const json& config, const std::string& config_name, const SafetensorsFile& weights) {
    const ConfigFields fields(config, config_name);
    const json& peft_type = fields.required("peft_type");
    if (peft_type != "LORA")
        throw PeftLayoutError(config_name + ": peft_type " + shown(peft_type) + " is not supported (only \"LORA\")");
    if (fields.flag("use_dora")) throw PeftLayoutError(config_name + ": use_dora = true is not supported");
    if (const json* bias = fields.find("bias"); bias && *bias != "none")
        throw PeftLayoutError(config_name + ": bias " + shown(*bias) + " is not supported (only \"none\")");
    const int64_t r_default = fields.rank(fields.required("r"), "r");
    const double alpha_default = fields.alpha(fields.required("lora_alpha"), "lora_alpha");
    const bool rslora = fields.flag("use_rslora");
    const json& rank_pattern = fields.patterns("rank_pattern");
    const json& alpha_pattern = fields.patterns("alpha_pattern");
    for (auto it = rank_pattern.begin(); it != rank_pattern.end(); ++it)
        fields.rank(it.value(), "rank_pattern." + it.key());
    for (auto it = alpha_pattern.begin(); it != alpha_pattern.end(); ++it)
        fields.alpha(it.value(), "alpha_pattern." + it.key());

    const std::string& weights_name = weights.path();
    const std::string prefix(kPeftTensorPrefix);
    std::map<std::string, size_t> index;  // module → position in layout.modules
    PeftLayout layout;
    for (const TensorView& v : weights.tensors()) {
        if (v.name.rfind(prefix, 0) != 0)
            throw PeftLayoutError(weights_name + ": tensor \"" + v.name + "\" does not start with \"" + prefix + "\"");
        const std::string key = v.name.substr(prefix.size());
        bool matched = false;
        for (const std::string suffix : {".lora_A.weight", ".lora_B.weight"}) {
            if (key.size() <= suffix.size() || key.compare(key.size() - suffix.size(), suffix.size(), suffix) != 0)
                continue;
            const std::string module = key.substr(0, key.size() - suffix.size());
            auto [it, fresh] = index.emplace(module, layout.modules.size());
            if (fresh) layout.modules.push_back({module});
            PeftModuleFactors& m = layout.modules[it->second];
            (suffix == ".lora_A.weight" ? m.A : m.B) = &v;
            matched = true;
            break;
        }
        if (!matched)
            throw PeftLayoutError(
                weights_name + ": tensor \"" + v.name +
                "\" is not a LoRA factor (…lora_A.weight / …lora_B.weight); DoRA magnitudes, embedding "
                "LoRAs and modules_to_save are not supported");
    }
    if (layout.modules.empty()) throw PeftLayoutError(weights_name + ": no LoRA tensors");
    for (PeftModuleFactors& m : layout.modules) {
        if (!m.A || !m.B)
            throw PeftLayoutError(weights_name + ": module \"" + m.module + "\" has " + (m.A ? "lora_A" : "lora_B") +
                                  " but no " + (m.A ? "lora_B" : "lora_A"));
        const auto& a = m.A->shape;
        const auto& b = m.B->shape;
        const bool conv = a.size() == 4 && b.size() == 4 && a[2] == a[3] && a[2] >= 1 && b[2] == 1 && b[3] == 1;
        if ((!conv && (a.size() != 2 || b.size() != 2)) || b[1] != a[0] || a[0] < 1 || a[1] < 1 || b[0] < 1)
            throw PeftLayoutError(weights_name + ": module \"" + m.module + "\": lora_A " + format_shape(a) +
                                  " and lora_B " + format_shape(b) +
                                  " are not [r, in] and [out, r] with r, in, out ≥ 1 (a conv's: [r, C, k, k] and "
                                  "[out, r, 1, 1])");
        m.kernel_size = conv ? a[2] : 0;
        const json* r_entry = pattern_entry(rank_pattern, m.module);
        const json* alpha_entry = pattern_entry(alpha_pattern, m.module);
        m.rank = r_entry ? r_entry->get<int64_t>() : r_default;
        const double alpha = alpha_entry ? alpha_entry->get<double>() : alpha_default;
        if (m.rank != a[0])
            throw PeftLayoutError(weights_name + ": module \"" + m.module + "\": lora_A has rank " +
                                  std::to_string(a[0]) + " but " + config_name + " says r = " + std::to_string(m.rank));
        m.scale = rslora ? alpha / std::sqrt(static_cast<double>(m.rank)) : alpha / static_cast<double>(m.rank);
    }
    layout.method = weights.metadata().count("lorica.method") ? weights.metadata().at("lorica.method") : "peft";
    layout.base_model_name_or_path = config.value("base_model_name_or_path", json(nullptr));
    return layout;
}

}  // namespace lorica
