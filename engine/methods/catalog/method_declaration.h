#pragma once
// One registration record per adapter method: everything the config, the CLI, the store and the GUI
// know about a method without building it. Torch-free (part of lorica_core), so `lorica-cli methods`,
// `lorica-cli config` and the GUI's method picker read it without LibTorch.
//
// A method lives in its own files:
//   engine/methods/catalog/<method>_options.{h,cpp}  its options (struct, schema, parser) and its
//                                                    declaration: `const MethodDeclaration& <id>_declaration()`
//   engine/methods/<method>.{h,cpp}                  the AdapterMethod and its factory
//                                                    `std::unique_ptr<AdapterMethod> make_<id>(const ExperimentConfig&)`
// and is registered by one line `LORICA_METHOD(<id>)` in engine/methods/catalog/registered_methods.def,
// which both the catalog (method_catalog.cpp) and the factory table (method_registry.cpp) read.
//
// The front ends choose what to draw from `state` and `analyses` (the typed keys of
// engine/vocabulary/analysis_keys.h the method records), never from its name.

#include <string>
#include <vector>

#include "engine/config/backbone_family.h"
#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"
#include "engine/vocabulary/analysis_keys.h"

namespace lorica {

struct MethodDeclaration {
    std::string name;                   // the config's method.name, e.g. "sd-lora"
    std::string summary;                // one line for `lorica-cli methods` and the GUI's method picker
    const MethodOptionSchema* options;  // its method.options: the declaration the parser reads
    // Parses config.method.options as the method's constructor does; throws ConfigError naming
    // method.options.<name>. Also checks rules between the options and the rest of the config.
    void (*check_options)(const ExperimentConfig& config);
    // The method state it records (MethodState events) and the analyses it stores (AnalysisDone):
    // the views that draw them are offered for its runs.
    std::vector<StateKey> state;
    std::vector<AnalysisKey> analyses;
    // True when the method keeps one adapter term per task that `lorica-cli export --task T` can
    // write on its own (SD-LoRA's directions, merged LoRA's kept factors, InfLoRA's branches).
    bool per_task_terms = false;
    // The backbone families it adapts; a config asking for another is refused (method.name).
    std::vector<BackboneFamily> backbones = {BackboneFamily::vit, BackboneFamily::resnet};
    // The presets (resources/presets/<name>.json) whose method is this one (checked by
    // tests/unit/core/method_catalog_test.cpp against the preset files).
    std::vector<std::string> presets;
    // True when the method trains every backbone weight rather than method.targets' sites (full
    // fine-tuning): analyses that compare adapted weights (low-loss region) then compare all of them.
    bool trains_every_weight = false;

    bool records(StateKey key) const;
    bool records(AnalysisKey key) const;
    bool supports(BackboneFamily family) const;
};

}  // namespace lorica
