#pragma once
// The registered adapter methods, without LibTorch headers (for front ends and code that logs with
// spdlog; see engine/util/log.h for why the two do not mix).

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

struct MethodSummary {
    std::string name;
    std::string summary;
    MethodOptionSchema options;  // the declaration of its method.options (option_schema.h)
};

std::vector<MethodSummary> method_catalog();

// Builds the configured method once and discards it: throws ConfigError naming a bad `method.*` field.
void validate_method_config(const ExperimentConfig& config);

}  // namespace lorica
