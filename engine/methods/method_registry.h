#pragma once
// The one place adapter methods are built: each method of the catalog (engine/config/method_catalog.h:
// name, summary, option declaration and check) paired with its factory. A factory reads the method's
// config (`method.*`, including `method.options`) and throws ConfigError naming the bad field.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/option_schema.h"
#include "engine/methods/adapter_method.h"

namespace lorica {

struct MethodInfo {
    std::string name;
    std::string summary;                // one line for `lorica-cli methods` and the GUI's method picker
    const MethodOptionSchema* options;  // its method.options: the declaration the parser reads
    std::function<std::unique_ptr<AdapterMethod>(const ExperimentConfig&)> make;
};

// The catalog's methods in its order, each with its factory.
const std::vector<MethodInfo>& registered_methods();

// Throws ConfigError("method.name", ...) listing the registered names when `config.method.name` is unknown.
std::unique_ptr<AdapterMethod> make_method(const ExperimentConfig& config);

}  // namespace lorica
