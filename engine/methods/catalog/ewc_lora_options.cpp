#include "engine/methods/catalog/ewc_lora_options.h"

#include "engine/methods/catalog/method_declaration.h"

namespace lorica {

const MethodOptionSchema& EWCLoRAOptions::schema() {
    static const MethodOptionSchema s{{
        number_option("lambda", 1e7, 0.0, 1e12, "",
                      "λ of the penalty (λ/2)·Σ Ω ⊙ ΔW² on the shared LoRA's full-weight update ΔW = s·B A "
                      "(the released ImageNet-R config: 1e7); 0 = sequential LoRA folded after each task"),
        number_option("gamma", 1.0, 0.0, 1.0, "",
                      "decay of the accumulated importance at each task's end: Ω ← γ·Ω + F (released configs: 1)"),
        integer_option("fisher_batches", 0, 0, 1000000, "batches",
                       "batches of the task's training images the empirical Fisher averages after the task; 0 = all "
                       "(the released code)"),
        choice_option("fold", kEWCLoRAFoldNames, EWCLoRAFold::weights,
                      "at a task's end fold its update into W exactly (weights, the paper's W_t = W_{t-1} + ΔW_t) or "
                      "add its factors to one accumulated frozen pair (factor-sum, the released code: "
                      "(B_1 + B_2)(A_1 + A_2) has cross terms)"),
    }};
    return s;
}

EWCLoRAOptions EWCLoRAOptions::from_config(const ExperimentConfig& config) {
    EWCLoRAOptions o;
    OptionReader r(schema(), config.method.options);
    r.read("lambda", o.lambda);
    r.read("gamma", o.gamma);
    int batches = 0;
    r.read("fisher_batches", batches);
    o.fisher_batches = batches;
    r.read("fold", o.fold, kEWCLoRAFoldNames);
    r.finish();
    return o;
}

// ---- declaration (registered_methods.def) -----------------------------------------------------------

const MethodDeclaration& ewc_lora_declaration() {
    static const MethodDeclaration d{
        "ewc-lora",
        "EWC-LoRA: one shared LoRA regularised by EWC on its full-weight update, folded into W after each task",
        &EWCLoRAOptions::schema(),
        [](const ExperimentConfig& c) { (void)EWCLoRAOptions::from_config(c); },
        {StateKey::trainable_params},
        {},
        false,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {"ewc-lora", "ewc-lora-vitb-imagenet-r-10"}};
    return d;
}

}  // namespace lorica
