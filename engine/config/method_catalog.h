#pragma once
// The adapter methods as the config knows them: each registered name with its one-line summary, the
// declaration of its `method.options` (option_schema.h) and the check of those options. Torch-free:
// `lorica-cli methods`, `lorica-cli config` and the GUI's method picker read it without LibTorch.
// engine/methods/method_registry.h pairs every entry with the factory that builds the method (same
// names, same order); a method's constructor reads its options through the same parser, so a config
// that passes validate_method_config builds.

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

// One registered method.
struct MethodDeclaration {
    std::string name;
    std::string summary;                // one line for `lorica-cli methods` and the GUI's method picker
    const MethodOptionSchema* options;  // its method.options: the declaration the parser reads
    // Parses config.method.options as the method's constructor does; throws ConfigError naming
    // method.options.<name>.
    void (*check_options)(const ExperimentConfig& config);
};

// Every registered method, in the order `lorica-cli methods` lists them.
const std::vector<MethodDeclaration>& method_declarations();

struct MethodSummary {
    std::string name;
    std::string summary;
    MethodOptionSchema options;  // the declaration of its method.options (option_schema.h)
};

std::vector<MethodSummary> method_catalog();

// The declaration of `config.method.name`; throws ConfigError("method.name", ...) listing the
// registered names when it is unknown.
const MethodDeclaration& method_declaration(const std::string& name);

// Checks `method.name` and `method.options`: throws ConfigError naming the bad `method.*` field.
void validate_method_config(const ExperimentConfig& config);

}  // namespace lorica
