#include "engine/methods/catalog/method_declaration.h"
#include "engine/methods/catalog/lori_options.h"

namespace lorica {

LoRIOptions lori_registered_defaults(const std::string& registered_name) {
    LoRIOptions d;
    if (registered_name == "lori-s") d.variant = LoRIVariant::sparse;
    if (registered_name == "lori-merge") d.mode = LoRIMode::merge;
    return d;
}

const MethodOptionSchema& lori_option_schema(const LoRIOptions& defaults) {
    auto build = [](const LoRIOptions& d) {
        return MethodOptionSchema{{
            choice_option("variant", kLoRIVariantNames, d.variant,
                          "d: dense B; s: B sparse by a calibrated magnitude mask"),
            choice_option("mode", kLoRIModeNames, d.mode,
                          "continual: one adapter continued through every task; merge: one adapter per task, the "
                          "model is their merge"),
            choice_option("a_seed_mode", kLoRIASeedModeNames, nlohmann::json(),
                          "one frozen random A for every task (shared) or a new one per task (per-task); default: "
                          "shared in continual mode (required there), per-task in merge mode"),
            number_option("sparsity", d.sparsity, 0.0, 1.0, "fraction",
                          "fraction of B's entries masked out (variant s)"),
            choice_option("mask_granularity", kMaskGranularityNames, d.mask_granularity,
                          "one magnitude threshold over all of B (global), per layer or per matrix"),
            number_option("sparse_lr_multiplier", d.sparse_lr_multiplier, 1e-6, 1e6, "× lr",
                          "learning rate of the sparse pass = this × train.optimizer.lr (variant s)"),
            number_option("clip_per_tensor", d.clip_per_tensor, 0.0, 1e12, "L2 norm",
                          "clip each B gradient to this norm after masking (0 = off)"),
            choice_option("calibration_head", kCalibrationHeadNames, d.calibration_head,
                          "the task head after the calibration pass: reset to its start (so it sees LoRI-D's steps) "
                          "or kept (variant s)"),
            choice_option("merge", kMergeKindNames, d.merge,
                          "the merge the model runs in merge mode: cat (exact Σ w s B A) or linear (PEFT's, with "
                          "cross terms)"),
            number_option("merge_weight", nlohmann::json(), 0.0, 1e6, "",
                          "weight w_t of each task's adapter in the merge; default 0.5 (variant d) / 0.4 (variant s), "
                          "the published weights; 0 = uniform 1/(t+1)"),
        }};
    };
    static const MethodOptionSchema plain = build(LoRIOptions{});
    static const MethodOptionSchema sparse = [&build] {
        LoRIOptions d;
        d.variant = LoRIVariant::sparse;
        return MethodOptionSchema{build(d)};
    }();
    static const MethodOptionSchema merging = [&build] {
        LoRIOptions d;
        d.mode = LoRIMode::merge;
        return MethodOptionSchema{build(d)};
    }();
    return defaults.sparse() ? sparse : defaults.merging() ? merging : plain;
}

LoRIOptions parse_lori_options(const ExperimentConfig& config, LoRIOptions o) {
    OptionReader r(lori_option_schema(o), config.method.options);
    r.read("variant", o.variant, kLoRIVariantNames);
    r.read("mode", o.mode, kLoRIModeNames);
    r.read("a_seed_mode", o.a_seed_mode, kLoRIASeedModeNames);
    r.read("sparsity", o.sparsity);
    r.read("mask_granularity", o.mask_granularity, kMaskGranularityNames);
    r.read("sparse_lr_multiplier", o.sparse_lr_multiplier);
    r.read("clip_per_tensor", o.clip_per_tensor);
    r.read("calibration_head", o.calibration_head, kCalibrationHeadNames);
    r.read("merge", o.merge, kMergeKindNames);
    r.read("merge_weight", o.merge_weight);
    r.finish();
    if (o.a_seed_mode == LoRIASeedMode::by_mode)
        o.a_seed_mode = o.merging() ? LoRIASeedMode::per_task : LoRIASeedMode::shared;
    if (!o.merging() && o.per_task_a())
        throw ConfigError(
            "method.options.a_seed_mode",
            "'per-task' needs mode 'merge': continual LoRI continues B on the same A (allowed here: shared)");
    if (o.sparse() && o.sparsity >= 1.0)
        throw ConfigError("method.options.sparsity", "must be below 1 for variant 's' (1 would train nothing)");
    return o;
}

// ---- declarations (registered_methods.def) ----------------------------------------------------------

namespace {

// Every LoRI name may record all three (method.options.mode = merge turns lori-d / lori-s into merging).
const std::vector<AnalysisKey> kLoRIAnalyses = {AnalysisKey::lori_merge, AnalysisKey::lori_overlap_a,
                                                AnalysisKey::lori_overlap_mask};

MethodDeclaration lori_declaration(const std::string& name, std::string summary, std::vector<AnalysisKey> analyses,
                                   bool per_task_terms, std::vector<std::string> presets) {
    return {name,
            std::move(summary),
            &lori_option_schema(lori_registered_defaults(name)),
            nullptr,
            {StateKey::trainable_params, StateKey::ranks, StateKey::lori_a_seed},
            std::move(analyses),
            per_task_terms,
            {BackboneFamily::vit, BackboneFamily::resnet},
            std::move(presets)};
}

}  // namespace

const MethodDeclaration& lori_d_declaration() {
    static const MethodDeclaration d = [] {
        MethodDeclaration m =
            lori_declaration("lori-d", "LoRI-D: frozen random A, dense trainable B, continued through every task",
                             kLoRIAnalyses, false, {"lori-d"});
        m.check_options = [](const ExperimentConfig& c) {
            (void)parse_lori_options(c, lori_registered_defaults("lori-d"));
        };
        return m;
    }();
    return d;
}

const MethodDeclaration& lori_s_declaration() {
    static const MethodDeclaration d = [] {
        MethodDeclaration m = lori_declaration(
            "lori-s", "LoRI-S: frozen random A, B sparse by a calibrated magnitude mask (90% by default)",
            kLoRIAnalyses, false, {"lori-s", "lori-s-vitb-imagenet-r-10"});
        m.check_options = [](const ExperimentConfig& c) {
            (void)parse_lori_options(c, lori_registered_defaults("lori-s"));
        };
        return m;
    }();
    return d;
}

const MethodDeclaration& lori_merge_declaration() {
    static const MethodDeclaration d = [] {
        MethodDeclaration m = lori_declaration(
            "lori-merge", "LoRI, one adapter per task, the model is the merge (cat or linear) of all of them",
            kLoRIAnalyses, true, {"lori-merge"});
        m.check_options = [](const ExperimentConfig& c) {
            (void)parse_lori_options(c, lori_registered_defaults("lori-merge"));
        };
        return m;
    }();
    return d;
}

}  // namespace lorica
