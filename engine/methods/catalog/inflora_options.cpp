#include "engine/methods/catalog/inflora_options.h"

#include <string>

#include "engine/methods/catalog/method_declaration.h"

namespace lorica {
namespace {

// A target whose sites take the attention's input tokens: a slice or the whole of a fused qkv.
bool inflora_target_reads_attention_input(const std::string& target) {
    if (target == "q" || target == "k" || target == "v" || target == "qkv") return true;
    const std::string qkv = "attn.qkv";
    const auto colon = target.rfind(':');
    const std::string module = colon == std::string::npos ? target : target.substr(0, colon);
    return module.size() >= qkv.size() && module.compare(module.size() - qkv.size(), qkv.size(), qkv) == 0;
}

}  // namespace

const MethodOptionSchema& InfLoRAOptions::schema() {
    static const MethodOptionSchema s{{
        number_option("lamb", 0.98, 0.0, 1.0, "",
                      "DualGPM energy threshold after the first task (official ImageNet-R value; CIFAR-100: 0.95)"),
        number_option("lame", 1.0, 0.0, 1.0, "",
                      "DualGPM energy threshold after the last task; task t of T uses lamb + (lame - lamb) t / T"),
        integer_option("feature_batches", 0, 0, 1000000, "batches",
                       "training batches the input features are averaged over before and after each task; 0 = all "
                       "(the official code)"),
    }};
    return s;
}

InfLoRAOptions InfLoRAOptions::from_config(const ExperimentConfig& config) {
    InfLoRAOptions o;
    OptionReader r(schema(), config.method.options);
    r.read("lamb", o.lamb);
    r.read("lame", o.lame);
    r.read("feature_batches", o.feature_batches);
    r.finish();
    if (config.method.rank > config.backbone.dim)
        throw ConfigError("method.rank", "InfLoRA's A_t is the top-" + std::to_string(config.method.rank) +
                                             " left singular vectors of the [dim, dim] input-feature matrix: the "
                                             "rank must be at most backbone.dim = " +
                                             std::to_string(config.backbone.dim));
    for (const std::string& target : config.method.targets)
        if (!inflora_target_reads_attention_input(target))
            throw ConfigError("method.targets",
                              "InfLoRA adapts slices of the attention's qkv (q, k, v, qkv or a "
                              "'*.attn.qkv' pattern), whose input tokens give its subspaces; '" +
                                  target + "' is not one");
    return o;
}

double InfLoRAOptions::threshold(int task, int tasks) const {
    return (lame - lamb) * static_cast<double>(task) / static_cast<double>(tasks > 0 ? tasks : 1) + lamb;
}

// ---- declaration (registered_methods.def) ----------------------------------------------------------

const MethodDeclaration& inflora_declaration() {
    static const MethodDeclaration d{
        "inflora",
        "InfLoRA: a branch per task on k and v whose frozen A avoids the old tasks' input subspace (DualGPM); B "
        "trains",
        &InfLoRAOptions::schema(),
        [](const ExperimentConfig& c) { (void)InfLoRAOptions::from_config(c); },
        {StateKey::trainable_params, StateKey::stored_params, StateKey::stored_features},
        {},
        true,
        {BackboneFamily::vit},
        {"inflora", "inflora-vitb-imagenet-r-10"}};
    return d;
}

}  // namespace lorica
