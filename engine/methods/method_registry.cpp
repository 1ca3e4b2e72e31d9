#include "engine/methods/method_registry.h"

#include <map>
#include <stdexcept>

#include "engine/config/method_catalog.h"
#include "engine/methods/baselines.h"
#include "engine/methods/lori.h"
#include "engine/methods/merged_lora.h"
#include "engine/methods/sd_lora.h"

namespace lorica {
namespace {

using Factory = std::function<std::unique_ptr<AdapterMethod>(const ExperimentConfig&)>;

// One factory per name of the catalog.
const std::map<std::string, Factory>& factories() {
    static const std::map<std::string, Factory> f = {
        {"sequential-lora", [](const ExperimentConfig& c) { return std::make_unique<SequentialLoRA>(c); }},
        {"full-finetune", [](const ExperimentConfig& c) { return std::make_unique<FullFinetune>(c); }},
        {"frozen-backbone", [](const ExperimentConfig& c) { return std::make_unique<FrozenBackbone>(c); }},
        {"sd-lora", [](const ExperimentConfig& c) { return std::make_unique<SDLoRA>(c, SDLoRAVariant::plain); }},
        {"sd-lora-rr",
         [](const ExperimentConfig& c) { return std::make_unique<SDLoRA>(c, SDLoRAVariant::rank_reduction); }},
        {"sd-lora-kd",
         [](const ExperimentConfig& c) { return std::make_unique<SDLoRA>(c, SDLoRAVariant::knowledge_distillation); }},
        {"lori-d", [](const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-d"); }},
        {"lori-s", [](const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-s"); }},
        {"lori-merge", [](const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-merge"); }},
        {"merged-lora", [](const ExperimentConfig& c) { return std::make_unique<MergedLoRA>(c, "merged-lora"); }},
        {"merged-lora-ft", [](const ExperimentConfig& c) { return std::make_unique<MergedLoRA>(c, "merged-lora-ft"); }},
    };
    return f;
}

}  // namespace

const std::vector<MethodInfo>& registered_methods() {
    static const std::vector<MethodInfo> methods = [] {
        std::vector<MethodInfo> out;
        for (const MethodDeclaration& m : method_declarations()) {
            const auto factory = factories().find(m.name);
            if (factory == factories().end())
                throw std::logic_error("method '" + m.name + "' is in the catalog but has no factory");
            out.push_back({m.name, m.summary, m.options, factory->second});
        }
        if (out.size() != factories().size())
            throw std::logic_error("a method factory has no entry in the catalog (engine/config/method_catalog.cpp)");
        return out;
    }();
    return methods;
}

std::unique_ptr<AdapterMethod> make_method(const ExperimentConfig& config) {
    const std::string& name = method_declaration(config.method.name).name;  // unknown: ConfigError listing the names
    for (const auto& m : registered_methods())
        if (m.name == name) return m.make(config);
    throw std::logic_error("method '" + name + "' is not registered");
}

}  // namespace lorica
