#pragma once
// Expansion of an experiment's variants (variant_spec.h) into effective, validated configs.
//
// Each variant's config = the base config without its "variants"/"sweep" sections, then the
// variant's overrides, then parse_experiment_config. A variant whose `set` changes method.name
// without setting method.options starts from the new method's default options (method_switch.h).
// An experiment without variants expands to one unlabelled variant: the base config itself. Errors
// name the variant's field, e.g. "variants[2].set.method.rank" or "sweep.values[3]", and the
// variant's label.
//
// The foundation cache key (engine/train/foundation.h) depends only on the data, foundation and
// backbone sections and the seed, so variants that leave those equal share one cached foundation.

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"

namespace lorica {

struct ExperimentVariant {
    int index = 0;             // position in the expansion
    std::string label;         // "" for the single variant of an experiment without variants
    std::string sweep_field;   // "" unless the variant comes from a sweep
    std::string sweep_value;   // the sweep value as JSON text ("4")
    std::string field_prefix;  // where its overrides came from, for errors: "variants[2].set" or "sweep.values[3]"
    // method.rank is set by this variant's overrides or its sweep value: its runs are points of a rank
    // sweep (sweep_summary.h), grouped by the label without "rank=".
    bool rank_varies = false;
    ExperimentConfig config;  // effective config (no variants, no sweep)
};

// Throws ConfigError naming the variant's field (see the file comment).
std::vector<ExperimentVariant> expand_variants(const ExperimentConfig& config);

// True when the config has variants or a sweep.
bool has_variants(const ExperimentConfig& config);

// Rethrows `error` (raised while validating `variant`'s config) with the field prefixed by the
// variant's origin: ConfigError("variants[2].set.method.name", "variant 'x': ...").
[[noreturn]] void rethrow_for_variant(const ExperimentVariant& variant, const ConfigError& error);

}  // namespace lorica
