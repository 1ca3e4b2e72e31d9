#include "engine/methods/catalog/method_declaration.h"
#include "engine/methods/catalog/baseline_options.h"

#include "engine/methods/catalog/merged_lora_options.h"

namespace lorica {

const MethodOptionSchema& no_method_options() {
    static const MethodOptionSchema none;
    return none;
}

void expect_no_method_options(const ExperimentConfig& config) {
    OptionReader(no_method_options(), config.method.options).finish();
}

const MethodOptionSchema& SequentialLoRAOptions::schema() {
    static const MethodOptionSchema s{{
        integer_option("interpolation_points", 11, 0, 1001, "points",
                       "λ points of the merge interpolation between the solutions after tasks 0 and 1 (0 = off)"),
        lora_dropout_option(""),
    }};
    return s;
}

SequentialLoRAOptions SequentialLoRAOptions::from_config(const ExperimentConfig& config) {
    SequentialLoRAOptions o;
    OptionReader reader(schema(), config.method.options);
    reader.read("interpolation_points", o.interpolation_points);
    reader.read("dropout", o.dropout);
    reader.finish();
    return o;
}

// ---- declarations (registered_methods.def) ----------------------------------------------------------

const MethodDeclaration& sequential_lora_declaration() {
    static const MethodDeclaration d{"sequential-lora",
                                     "one LoRA pair per adapted layer, trained through every task (baseline)",
                                     &SequentialLoRAOptions::schema(),
                                     [](const ExperimentConfig& c) { (void)SequentialLoRAOptions::from_config(c); },
                                     {},
                                     {AnalysisKey::merge_interpolation},
                                     false,
                                     {BackboneFamily::vit, BackboneFamily::resnet},
                                     {"sequential-lora", "smoke", "compare"}};
    return d;
}

const MethodDeclaration& full_finetune_declaration() {
    static const MethodDeclaration d{"full-finetune",
                                     "every backbone weight trains on every task (baseline)",
                                     &no_method_options(),
                                     expect_no_method_options,
                                     {},
                                     {},
                                     false,
                                     {BackboneFamily::vit, BackboneFamily::resnet},
                                     {"full-finetune"},
                                     /*trains_every_weight=*/true};
    return d;
}

const MethodDeclaration& frozen_backbone_declaration() {
    static const MethodDeclaration d{"frozen-backbone",
                                     "frozen backbone, only the task heads train (baseline)",
                                     &no_method_options(),
                                     expect_no_method_options,
                                     {},
                                     {},
                                     false,
                                     {BackboneFamily::vit, BackboneFamily::resnet},
                                     {"frozen-backbone"}};
    return d;
}

}  // namespace lorica
