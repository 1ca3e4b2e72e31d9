#include "engine/methods/method_registry.h"

#include <stdexcept>

#include "engine/methods/catalog/method_catalog.h"

namespace lorica {

#define LORICA_METHOD(id) std::unique_ptr<AdapterMethod> make_##id(const ExperimentConfig& config);
#include "engine/methods/catalog/registered_methods.def"
#undef LORICA_METHOD

const std::vector<MethodInfo>& registered_methods() {
    static const std::vector<MethodInfo> methods = [] {
        const std::vector<MethodFactory> factories = {
#define LORICA_METHOD(id) &make_##id,
#include "engine/methods/catalog/registered_methods.def"
#undef LORICA_METHOD
        };
        std::vector<MethodInfo> out;
        for (size_t i = 0; i < factories.size(); ++i) out.push_back({&method_declarations().at(i), factories[i]});
        return out;
    }();
    return methods;
}

std::unique_ptr<AdapterMethod> make_method(const ExperimentConfig& config) {
    const std::string& name = method_declaration(config.method.name).name;  // unknown: ConfigError listing the names
    for (const auto& m : registered_methods())
        if (m.declaration->name == name) return m.make(config);
    throw std::logic_error("method '" + name + "' is not registered");
}

}  // namespace lorica
