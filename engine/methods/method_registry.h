#pragma once
// The one place adapter methods are built: each line of engine/methods/catalog/registered_methods.def
// pairs the method's declaration (catalog/method_declaration.h: name, summary, options, recorded keys,
// presets) with its factory `make_<id>`, defined in the method's own file. A factory reads the
// method's config (`method.*`, including `method.options`) and throws ConfigError naming the bad field.

#include <memory>
#include <vector>

#include "engine/methods/adapter_method.h"
#include "engine/methods/catalog/method_declaration.h"

namespace lorica {

using MethodFactory = std::unique_ptr<AdapterMethod> (*)(const ExperimentConfig&);

struct MethodInfo {
    const MethodDeclaration* declaration;
    MethodFactory make;
};

// The registered methods in the catalog's order, each with its factory.
const std::vector<MethodInfo>& registered_methods();

// Throws ConfigError("method.name", ...) listing the registered names when `config.method.name` is
// unknown, and ConfigError naming the field when the method refuses the config.
std::unique_ptr<AdapterMethod> make_method(const ExperimentConfig& config);

}  // namespace lorica
