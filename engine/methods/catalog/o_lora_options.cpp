#include "engine/methods/catalog/o_lora_options.h"

#include "engine/methods/catalog/method_declaration.h"

namespace lorica {

const MethodOptionSchema& OLoRAOptions::schema() {
    static const MethodOptionSchema s{{
        number_option("lambda_orth", 0.5, 0.0, 1e6, "",
                      "λ₁ of the orthogonality loss Σ_sites Σ_ij |(A_old A_newᵀ)_ij| between the new task's A and "
                      "every old task's A on the same site (the released scripts: 0.5)"),
        number_option("lambda_l2", 0.0, 0.0, 1e6, "",
                      "λ₂ of the L2 term Σ_sites ‖A_new‖_F + ‖B_new‖_F on the new task's pair (the released "
                      "scripts: 0)"),
    }};
    return s;
}

OLoRAOptions OLoRAOptions::from_config(const ExperimentConfig& config) {
    OLoRAOptions o;
    OptionReader r(schema(), config.method.options);
    r.read("lambda_orth", o.lambda_orth);
    r.read("lambda_l2", o.lambda_l2);
    r.finish();
    return o;
}

// ---- declaration (registered_methods.def) -----------------------------------------------------------

const MethodDeclaration& o_lora_declaration() {
    static const MethodDeclaration d{
        "o-lora",
        "O-LoRA: a new LoRA per task kept frozen afterwards, its A trained orthogonal to every old A",
        &OLoRAOptions::schema(),
        [](const ExperimentConfig& c) { (void)OLoRAOptions::from_config(c); },
        {StateKey::trainable_params},
        {},
        true,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {"o-lora", "o-lora-vitb-imagenet-r-10"}};
    return d;
}

}  // namespace lorica
