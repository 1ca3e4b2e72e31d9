#include "engine/config/experiment_variants.h"

#include "engine/config/method_switch.h"

namespace lorica {
namespace {

// "4" for 4, "adamw" for "adamw" (no quotes), JSON text otherwise.
std::string value_text(const nlohmann::json& value) {
    return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string last_component(const std::string& path) {
    const auto dot = path.rfind('.');
    return dot == std::string::npos ? path : path.substr(dot + 1);
}

void set_field(nlohmann::json& document, const std::string& key, const nlohmann::json& value) {
    apply_override(document, key + "=" + value.dump());
}

}  // namespace

bool has_variants(const ExperimentConfig& config) { return !config.variants.empty() || !config.sweep.empty(); }

void rethrow_for_variant(const ExperimentVariant& variant, const ConfigError& error) {
    std::string message = error.what();
    // Drop the "config field '...': " prefix of the inner error: the new field replaces it.
    if (const auto pos = message.find("': "); !error.field().empty() && pos != std::string::npos)
        message = message.substr(pos + 3);
    std::string field = variant.field_prefix;
    if (!error.field().empty() && error.field() != variant.sweep_field) field += "." + error.field();
    throw ConfigError(field, "variant '" + variant.label + "': " + message);
}

std::vector<ExperimentVariant> expand_variants(const ExperimentConfig& config) {
    if (!has_variants(config)) {
        ExperimentVariant only;
        only.config = config;
        return {only};
    }
    ExperimentConfig plain = config;
    plain.variants.clear();
    plain.sweep = SweepSpec{};
    const nlohmann::json base = to_json(plain);
    const std::string base_method = plain.method.name;

    // Explicit variants (or one unlabelled base), each crossed with the sweep values (or none).
    std::vector<VariantSpec> explicit_variants = config.variants;
    if (explicit_variants.empty()) explicit_variants.push_back(VariantSpec{});
    const size_t sweep_count = config.sweep.empty() ? 1 : config.sweep.values.size();

    std::vector<ExperimentVariant> out;
    for (size_t i = 0; i < explicit_variants.size(); ++i) {
        for (size_t k = 0; k < sweep_count; ++k) {
            const VariantSpec& spec = explicit_variants[i];
            ExperimentVariant v;
            v.index = static_cast<int>(out.size());
            v.label = spec.label;
            v.field_prefix = config.variants.empty() ? "" : "variants[" + std::to_string(i) + "].set";
            nlohmann::json doc = base;
            try {
                std::vector<std::string> keys;
                for (const auto& [key, value] : spec.set.items()) {
                    set_field(doc, key, value);
                    keys.push_back(key);
                }
                // A variant that switches the method starts from the new method's default options.
                (void)drop_replaced_method_options(doc, base_method, keys);
                v.rank_varies = std::find(keys.begin(), keys.end(), "method.rank") != keys.end();
            } catch (const ConfigError& e) {
                throw ConfigError(v.field_prefix, "variant '" + v.label + "': " + e.what());
            }
            if (!config.sweep.empty()) {
                const nlohmann::json& value = config.sweep.values[k];
                v.sweep_field = config.sweep.field;
                v.sweep_value = value.dump();
                if (config.sweep.field == "method.rank") v.rank_varies = true;
                const std::string sweep_label = last_component(config.sweep.field) + "=" + value_text(value);
                v.label = v.label.empty() ? sweep_label : v.label + ", " + sweep_label;
                if (config.variants.empty()) v.field_prefix = "sweep.values[" + std::to_string(k) + "]";
                try {
                    set_field(doc, config.sweep.field, value);
                    if (config.sweep.alpha_per_rank > 0) {
                        if (!value.is_number())
                            throw ConfigError("", "method.rank must be a number, got " + value.dump());
                        set_field(doc, "method.alpha", config.sweep.alpha_per_rank * value.get<double>());
                    }
                } catch (const ConfigError& e) {
                    throw ConfigError("sweep.values[" + std::to_string(k) + "]",
                                      "variant '" + v.label + "': " + e.what());
                }
            }
            try {
                v.config = parse_experiment_config(doc);
            } catch (const ConfigError& e) {
                rethrow_for_variant(v, e);
            }
            out.push_back(std::move(v));
        }
    }
    return out;
}

}  // namespace lorica
