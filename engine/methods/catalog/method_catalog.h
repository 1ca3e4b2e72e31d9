#pragma once
// The registered adapter methods as the config knows them: every line of registered_methods.def with
// its declaration (method_declaration.h: name, summary, option schema and check, recorded keys,
// per-task terms, supported backbones, presets). Torch-free: `lorica-cli methods`, `lorica-cli config`
// and the GUI's method picker read it without LibTorch. engine/methods/method_registry.h pairs every
// entry with the factory that builds the method (the same .def, so the same names in the same order);
// a method's constructor reads its options through the same parser, so a config that passes
// validate_method_config builds.

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"
#include "engine/methods/catalog/method_declaration.h"

namespace lorica {

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

// Checks `method.name`, the backbone family it supports and `method.options`: throws ConfigError
// naming the bad `method.*` field.
void validate_method_config(const ExperimentConfig& config);

}  // namespace lorica
