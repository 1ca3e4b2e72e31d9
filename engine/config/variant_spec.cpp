#include "engine/config/variant_spec.h"

#include <set>

#include "engine/config/experiment_config.h"
#include "engine/config/json_object_reader.h"

namespace lorica {

std::vector<VariantSpec> parse_variant_specs(const nlohmann::json& variants) {
    if (!variants.is_array() || variants.empty())
        throw ConfigError("variants",
                          "must be a non-empty list of {\"label\": ..., \"set\": {...}}, got " + variants.dump());
    std::vector<VariantSpec> out;
    std::set<std::string> labels;
    for (size_t i = 0; i < variants.size(); ++i) {
        const std::string path = "variants[" + std::to_string(i) + "]";
        if (!variants[i].is_object()) throw ConfigError(path, "must be an object {\"label\": ..., \"set\": {...}}");
        ObjectReader r(variants[i], path);
        VariantSpec v;
        r.read("label", v.label);
        if (v.label.empty()) throw ConfigError(path + ".label", "must be a non-empty text");
        if (!labels.insert(v.label).second)
            throw ConfigError(path + ".label",
                              "'" + v.label + "' is used by an earlier variant (labels must be unique)");
        if (const json* set = r.object("set")) v.set = *set;
        r.finish();
        for (const auto& [key, value] : v.set.items()) {
            if (key.empty() || key.front() == '.' || key.back() == '.' || key.find("..") != std::string::npos)
                throw ConfigError(path + ".set", "'" + key + "' is not a dotted field path such as train.optimizer.lr");
            const std::string top = key.substr(0, key.find('.'));
            if (top == "variants" || top == "sweep" || top == "name")
                throw ConfigError(path + ".set." + key, "a variant cannot change '" + top + "'");
        }
        out.push_back(std::move(v));
    }
    return out;
}

SweepSpec parse_sweep_spec(const nlohmann::json& sweep) {
    if (!sweep.is_object()) throw ConfigError("sweep", "must be an object {\"field\": ..., \"values\": [...]}");
    ObjectReader r(sweep, "sweep");
    SweepSpec s;
    r.read("field", s.field);
    if (s.field.empty()) throw ConfigError("sweep.field", "must name a config field, e.g. method.rank");
    const std::string top = s.field.substr(0, s.field.find('.'));
    if (top == "variants" || top == "sweep" || top == "name")
        throw ConfigError("sweep.field", "a sweep cannot change '" + top + "'");
    const json* values = r.find("values");
    if (!values || !values->is_array() || values->empty())
        throw ConfigError("sweep.values", "must be a non-empty list of values for " + s.field);
    std::set<std::string> seen;
    for (size_t i = 0; i < values->size(); ++i) {
        if (!seen.insert((*values)[i].dump()).second)
            throw ConfigError("sweep.values[" + std::to_string(i) + "]", "repeats the value " + (*values)[i].dump());
        s.values.push_back((*values)[i]);
    }
    r.read("alpha_per_rank", s.alpha_per_rank, 0.0, 1e6);
    r.finish();
    if (s.alpha_per_rank > 0 && s.field != "method.rank")
        throw ConfigError("sweep.alpha_per_rank",
                          "only applies to a sweep of method.rank (this sweep is over " + s.field + ")");
    return s;
}

nlohmann::json to_json(const std::vector<VariantSpec>& variants) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& v : variants) out.push_back({{"label", v.label}, {"set", v.set}});
    return out;
}

nlohmann::json to_json(const SweepSpec& sweep) {
    nlohmann::json out = {{"field", sweep.field}, {"values", sweep.values}};
    if (sweep.alpha_per_rank > 0) out["alpha_per_rank"] = sweep.alpha_per_rank;
    return out;
}

}  // namespace lorica
