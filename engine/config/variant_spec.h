#pragma once
// The "variants" and "sweep" sections of an experiment config: how one config asks for several
// variants of the same experiment, each run over all its seeds and stored as one experiment.
//
//   "variants": [{"label": "sd-lora", "set": {"method.name": "sd-lora", "train.optimizer.lr": 0.0005}}, ...]
//   "sweep":    {"field": "method.rank", "values": [1, 2, 4, 8], "alpha_per_rank": 2.0}
//
// A variant is a label and a set of overrides: each `set` entry is a dotted field path and a JSON
// value, applied to the base config with apply_override's semantics (experiment_config.h). A sweep is
// shorthand for one variant per value, labelled "<last path component>=<value>" ("rank=4").
// `alpha_per_rank` (sweeps of method.rank only; 0 = off) also sets method.alpha = alpha_per_rank ×
// rank, so the LoRA scale alpha / rank stays constant along the sweep.
// With both sections, every variant is run at every sweep value (labels "sd-lora, rank=4").
// The expansion into effective configs is in experiment_variants.h.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorica {

struct VariantSpec {
    std::string label;                              // unique, non-empty
    nlohmann::json set = nlohmann::json::object();  // dotted field path → JSON value
};

struct SweepSpec {
    std::string field;                   // dotted path of the swept field, e.g. "method.rank"
    std::vector<nlohmann::json> values;  // one variant per value, in this order
    double alpha_per_rank = 0.0;         // > 0: method.alpha = alpha_per_rank × value (method.rank only)

    bool empty() const { return field.empty(); }
};

// Parses the "variants" array; throws ConfigError naming "variants[i].label" / "variants[i].set" etc.
std::vector<VariantSpec> parse_variant_specs(const nlohmann::json& variants);
// Parses the "sweep" object; throws ConfigError naming "sweep.field" / "sweep.values" etc.
SweepSpec parse_sweep_spec(const nlohmann::json& sweep);

nlohmann::json to_json(const std::vector<VariantSpec>& variants);
nlohmann::json to_json(const SweepSpec& sweep);

}  // namespace lorica
