#include "engine/config/method_catalog.h"

#include "engine/config/baseline_options.h"
#include "engine/config/lori_options.h"
#include "engine/config/merged_lora_options.h"
#include "engine/config/sd_lora_options.h"

namespace lorica {
const std::vector<MethodDeclaration>& method_declarations() {
    static const std::vector<MethodDeclaration> methods = {
        {"sequential-lora", "one LoRA pair per adapted layer, trained through every task (baseline)",
         &SequentialLoRAOptions::schema(),
         [](const ExperimentConfig& c) { (void)SequentialLoRAOptions::from_config(c); }},
        {"full-finetune", "every backbone weight trains on every task (baseline)", &no_method_options(),
         expect_no_method_options},
        {"frozen-backbone", "frozen backbone, only the task heads train (baseline)", &no_method_options(),
         expect_no_method_options},
        {"sd-lora", "frozen per-task directions with learnable shared magnitudes (arXiv 2501.13198)",
         &SDLoRAOptions::schema(SDLoRAVariant::plain),
         [](const ExperimentConfig& c) { (void)SDLoRAOptions::from_config(c, SDLoRAVariant::plain); }},
        {"sd-lora-rr", "SD-LoRA with a rank schedule that shrinks over the stream (rank reduction)",
         &SDLoRAOptions::schema(SDLoRAVariant::rank_reduction),
         [](const ExperimentConfig& c) { (void)SDLoRAOptions::from_config(c, SDLoRAVariant::rank_reduction); }},
        {"sd-lora-kd", "SD-LoRA that absorbs a new direction the old ones reproduce (least squares)",
         &SDLoRAOptions::schema(SDLoRAVariant::knowledge_distillation),
         [](const ExperimentConfig& c) { (void)SDLoRAOptions::from_config(c, SDLoRAVariant::knowledge_distillation); }},
        {"lori-d", "LoRI-D: frozen random A, dense trainable B, continued through every task",
         &lori_option_schema(lori_registered_defaults("lori-d")),
         [](const ExperimentConfig& c) { (void)parse_lori_options(c, lori_registered_defaults("lori-d")); }},
        {"lori-s", "LoRI-S: frozen random A, B sparse by a calibrated magnitude mask (90% by default)",
         &lori_option_schema(lori_registered_defaults("lori-s")),
         [](const ExperimentConfig& c) { (void)parse_lori_options(c, lori_registered_defaults("lori-s")); }},
        {"lori-merge", "LoRI, one adapter per task, the model is the merge (cat or linear) of all of them",
         &lori_option_schema(lori_registered_defaults("lori-merge")),
         [](const ExperimentConfig& c) { (void)parse_lori_options(c, lori_registered_defaults("lori-merge")); }},
        {"merged-lora", "merged incremental LoRA: a fresh LoRA per task, merged into W at the task's end",
         &MergedLoRAOptions::schema("merged-lora"),
         [](const ExperimentConfig& c) { (void)MergedLoRAOptions::from_config(c, "merged-lora"); }},
        {"merged-lora-ft", "merged incremental LoRA's control: full fine-tuning of exactly the adapted weights",
         &MergedLoRAOptions::schema("merged-lora-ft"),
         [](const ExperimentConfig& c) { (void)MergedLoRAOptions::from_config(c, "merged-lora-ft"); }},
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
    method_declaration(config.method.name).check_options(config);
}

}  // namespace lorica
