#include "engine/methods/catalog/lora_pm_options.h"

#include "engine/methods/catalog/method_declaration.h"

namespace lorica {
namespace {

// merged-lora's declaration of `name` (the same concept, declared once there).
OptionSpec lora_pm_merged_option(const std::string& name) {
    const OptionSpec* spec = MergedLoRAOptions::schema("merged-lora").find(name);
    if (!spec) throw std::logic_error("merged-lora declares no option " + name);
    return *spec;
}

}  // namespace

const MethodOptionSchema& LoRAPMOptions::schema() {
    static const MethodOptionSchema s = [] {
        OptionSpec dropout = lora_dropout_option("");
        return MethodOptionSchema{{
            lora_pm_merged_option("alpha_per_rank"),
            dropout,
            number_option("epsilon", 0.5, 0.0, 10.0, "",
                          "ε of the perturbed steps: a step trains at θ + εΔ or θ − εΔ, Δ = the task's LoRA update "
                          "s·B·A (its term scaled by 1 ± ε for that step); 0 = no perturbation (LoRA-M)"),
            number_option("p_plus", 1.0 / 3.0, 0.0, 1.0, "", "probability of a step at θ + εΔ"),
            number_option("p_minus", 1.0 / 3.0, 0.0, 1.0, "",
                          "probability of a step at θ − εΔ; the rest, 1 − p_plus − p_minus, trains at θ"),
            integer_option("fisher_batches", 0, 0, 1000000, "batches",
                           "batches of the task's training data (test transform, index order) for the diagonal "
                           "empirical Fisher at the task's end; 0 = all"),
            bool_option("clamp_coefficient", true,
                        "clamp the merge coefficient α* to [0, 1] (a convex combination of the previous and the "
                        "task's weights); false = the closed form as it comes"),
        }};
    }();
    return s;
}

LoRAPMOptions LoRAPMOptions::from_config(const ExperimentConfig& config) {
    LoRAPMOptions o;
    OptionReader r(schema(), config.method.options);
    r.read("alpha_per_rank", o.merged.alpha_per_rank);
    r.read("dropout", o.merged.dropout);
    r.read("epsilon", o.epsilon);
    r.read("p_plus", o.p_plus);
    r.read("p_minus", o.p_minus);
    r.read("fisher_batches", o.fisher_batches);
    r.read("clamp_coefficient", o.clamp_coefficient);
    r.finish();
    o.merged.after_task = AfterTask::merge;
    o.merged.update = MergedUpdate::lora;
    if (o.p_plus + o.p_minus > 1.0 + 1e-12)
        throw ConfigError(r.field("p_minus"), "p_plus + p_minus must be at most 1 (the rest trains at θ)");
    return o;
}

// ---- declaration (registered_methods.def) -----------------------------------------------------------

const MethodDeclaration& lora_pm_declaration() {
    static const MethodDeclaration d{
        "lora-pm",
        "LoRA-P&M: merged incremental LoRA trained with task-vector perturbations, merged with the closed-form "
        "coefficient α* (arXiv 2505.22389)",
        &LoRAPMOptions::schema(),
        [](const ExperimentConfig& c) { (void)LoRAPMOptions::from_config(c); },
        {StateKey::trainable_params, StateKey::magnitudes},
        {},
        true,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {"lora-pm", "lora-pm-vitb-imagenet-r-10"}};
    return d;
}

}  // namespace lorica
