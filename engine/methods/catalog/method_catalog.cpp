#include "engine/methods/catalog/method_catalog.h"

#include <algorithm>

namespace lorica {

#define LORICA_METHOD(id) const MethodDeclaration& id##_declaration();
#include "engine/methods/catalog/registered_methods.def"
#undef LORICA_METHOD

bool MethodDeclaration::records(StateKey key) const {
    return std::find(state.begin(), state.end(), key) != state.end();
}

bool MethodDeclaration::records(AnalysisKey key) const {
    return std::find(analyses.begin(), analyses.end(), key) != analyses.end();
}

bool MethodDeclaration::supports(BackboneFamily family) const {
    return std::find(backbones.begin(), backbones.end(), family) != backbones.end();
}

const std::vector<MethodDeclaration>& method_declarations() {
    static const std::vector<MethodDeclaration> methods = {
#define LORICA_METHOD(id) id##_declaration(),
#include "engine/methods/catalog/registered_methods.def"
#undef LORICA_METHOD
    };
    return methods;
}

std::vector<MethodSummary> method_catalog() {
    std::vector<MethodSummary> out;
    for (const auto& m : method_declarations()) out.push_back({m.name, m.summary, *m.options});
    return out;
}

const MethodDeclaration& method_declaration(const std::string& name) {
    std::string names;
    for (const auto& m : method_declarations()) {
        if (m.name == name) return m;
        names += (names.empty() ? "" : ", ") + m.name;
    }
    throw ConfigError("method.name", "'" + name + "' is not a registered method (allowed: " + names + ")");
}

void validate_method_config(const ExperimentConfig& config) {
    const MethodDeclaration& m = method_declaration(config.method.name);
    if (!m.supports(config.backbone.family))
        throw ConfigError("method.name", "'" + m.name + "' does not adapt " +
                                             std::string(name_of(kBackboneFamilyNames, config.backbone.family)) +
                                             " backbones (backbone.preset '" + config.backbone.preset + "')");
    m.check_options(config);
}

}  // namespace lorica
