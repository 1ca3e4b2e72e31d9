#include "engine/methods/method_registry.h"

#include "engine/methods/baselines.h"
#include "engine/methods/sd_lora.h"
#include "engine/methods/lori.h"
#include "engine/methods/merged_lora.h"

namespace lorica {

const std::vector<MethodInfo>& registered_methods() {
    static const std::vector<MethodInfo> methods = {
        {"sequential-lora", "one LoRA pair per adapted layer, trained through every task (baseline)", &SequentialLoRA::schema(),
         [](const ExperimentConfig& c) { return std::make_unique<SequentialLoRA>(c); }},
        {"full-finetune", "every backbone weight trains on every task (baseline)", &no_method_options(),
         [](const ExperimentConfig& c) { return std::make_unique<FullFinetune>(c); }},
        {"frozen-backbone", "frozen backbone, only the task heads train (baseline)", &no_method_options(),
         [](const ExperimentConfig& c) { return std::make_unique<FrozenBackbone>(c); }},
        {"sd-lora", "frozen per-task directions with learnable shared magnitudes (arXiv 2501.13198)",
         &SDLoRAOptions::schema(SDLoRAVariant::plain),
         [](const ExperimentConfig& c) { return std::make_unique<SDLoRA>(c, SDLoRAVariant::plain); }},
        {"sd-lora-rr", "SD-LoRA with a rank schedule that shrinks over the stream (rank reduction)",
         &SDLoRAOptions::schema(SDLoRAVariant::rank_reduction),
         [](const ExperimentConfig& c) { return std::make_unique<SDLoRA>(c, SDLoRAVariant::rank_reduction); }},
        {"sd-lora-kd", "SD-LoRA that absorbs a new direction the old ones reproduce (least squares)",
         &SDLoRAOptions::schema(SDLoRAVariant::knowledge_distillation),
         [](const ExperimentConfig& c) { return std::make_unique<SDLoRA>(c, SDLoRAVariant::knowledge_distillation); }},
        {"lori-d", "LoRI-D: frozen random A, dense trainable B, continued through every task", &lori_option_schema({}),
         [](const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-d"); }},
        {"lori-s", "LoRI-S: frozen random A, B sparse by a calibrated magnitude mask (90% by default)",
         &lori_option_schema(LoRIOptions{LoRIVariant::sparse}),
         [](const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-s"); }},
        {"lori-merge", "LoRI, one adapter per task, the model is the merge (cat or linear) of all of them",
         &lori_option_schema(LoRIOptions{LoRIVariant::dense, LoRIMode::merge}),
         [](const ExperimentConfig& c) { return std::make_unique<LoRI>(c, "lori-merge"); }},
        {"merged-lora", "merged incremental LoRA: a fresh LoRA per task, merged into W at the task's end",
         &MergedLoRA::schema("merged-lora"),
         [](const ExperimentConfig& c) { return std::make_unique<MergedLoRA>(c, "merged-lora"); }},
        {"merged-lora-ft", "merged incremental LoRA's control: full fine-tuning of exactly the adapted weights",
         &MergedLoRA::schema("merged-lora-ft"),
         [](const ExperimentConfig& c) { return std::make_unique<MergedLoRA>(c, "merged-lora-ft"); }},
    };
    return methods;
}

std::unique_ptr<AdapterMethod> make_method(const ExperimentConfig& config) {
    std::string names;
    for (const auto& m : registered_methods()) {
        if (m.name == config.method.name) return m.make(config);
        names += (names.empty() ? "" : ", ") + m.name;
    }
    throw ConfigError("method.name", "'" + config.method.name + "' is not a registered method (allowed: " + names + ")");
}

}  // namespace lorica

#include "engine/methods/method_catalog.h"

namespace lorica {

std::vector<MethodSummary> method_catalog() {
    std::vector<MethodSummary> out;
    for (const auto& m : registered_methods()) out.push_back({m.name, m.summary, *m.options});
    return out;
}

void validate_method_config(const ExperimentConfig& config) { (void)make_method(config); }

}  // namespace lorica
