#include "engine/methods/catalog/method_declaration.h"
#include "engine/methods/catalog/merged_lora_options.h"

namespace lorica {

OptionSpec lora_dropout_option(const std::string& doc_tail) {
    return number_option("dropout", 0.0, 0.0, kMaxLoRADropout, "",
                         "PEFT's lora_dropout: in training, the LoRA pair sees its input with elements zeroed with "
                         "probability p and the rest scaled by 1/(1-p); 0 = none" +
                             doc_tail);
}

const MethodOptionSchema& MergedLoRAOptions::schema(const std::string& registered_name) {
    auto build = [](MergedUpdate update) {
        OptionSpec dropout = lora_dropout_option("; update = lora only");
        if (update == MergedUpdate::lora) dropout.paper(0.1);  // Soutif-Cormerais et al.'s PEFT config
        return MethodOptionSchema{{
            choice_option("after_task", kAfterTaskNames, AfterTask::merge,
                          "at a task's end fold the update into W (merge) or discard it (drop, the paper's control)"),
            choice_option("update", kMergedUpdateNames, update,
                          "a LoRA pair per task (lora) or full fine-tuning of exactly the adapted weights (full)"),
            number_option("alpha_per_rank", 2.0, 0.0, 1e6, "",
                          "alpha = alpha_per_rank · rank, so the scale is the same at every rank (the paper's alpha = "
                          "2r); 0 = method.alpha"),
            dropout,
        }};
    };
    static const MethodOptionSchema lora = build(MergedUpdate::lora);
    static const MethodOptionSchema full = build(MergedUpdate::full);
    return registered_name == "merged-lora-ft" ? full : lora;
}

MergedLoRAOptions MergedLoRAOptions::from_config(const ExperimentConfig& config, const std::string& registered_name) {
    MergedLoRAOptions o;
    OptionReader r(schema(registered_name), config.method.options);
    r.read("after_task", o.after_task, kAfterTaskNames);
    r.read("update", o.update, kMergedUpdateNames);
    r.read("alpha_per_rank", o.alpha_per_rank);
    r.read("dropout", o.dropout);
    r.finish();
    if (o.update == MergedUpdate::full && o.dropout > 0.0)
        throw ConfigError(r.field("dropout"),
                          "applies to the LoRA pair (update = lora); update = full trains a dense "
                          "ΔW with no low-rank branch to drop out: set it to 0");
    return o;
}

// ---- declarations (registered_methods.def) ----------------------------------------------------------

const MethodDeclaration& merged_lora_declaration() {
    static const MethodDeclaration d{
        "merged-lora",
        "merged incremental LoRA: a fresh LoRA per task, merged into W at the task's end",
        &MergedLoRAOptions::schema("merged-lora"),
        [](const ExperimentConfig& c) { (void)MergedLoRAOptions::from_config(c, "merged-lora"); },
        {StateKey::trainable_params},
        {},
        true,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {"merged-lora", "merged-lora-drop", "rank-sweep", "merged-lora-vitb-cub200-rank-sweep", "backbones",
         "soutif-vitb-rank-sweep", "soutif-vitb-rank-sweep-long", "soutif-resnet50-rank-sweep",
         "soutif-resnet50-rank-sweep-long"}};
    return d;
}

const MethodDeclaration& merged_lora_ft_declaration() {
    static const MethodDeclaration d{
        "merged-lora-ft",
        "merged incremental LoRA's control: full fine-tuning of exactly the adapted weights",
        &MergedLoRAOptions::schema("merged-lora-ft"),
        [](const ExperimentConfig& c) { (void)MergedLoRAOptions::from_config(c, "merged-lora-ft"); },
        {StateKey::trainable_params},
        {},
        false,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {}};
    return d;
}

}  // namespace lorica
