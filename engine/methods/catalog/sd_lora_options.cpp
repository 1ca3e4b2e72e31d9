#include "engine/methods/catalog/method_declaration.h"
#include "engine/methods/catalog/sd_lora_options.h"

namespace lorica {

const MethodOptionSchema& SDLoRAOptions::schema(SDLoRAVariant variant) {
    auto build = [](SDLoRAVariant v) {
        MethodOptionSchema s{{
            choice_option("handover", kSDLoRAHandoverNames, SDLoRAHandover::rescale,
                          "how a finished task's update becomes a frozen direction: rescale (α_t absorbs the "
                          "mean norm, no jump), literal (the paper's equations), released-code (its code: norms "
                          "of the factors, magnitudes reset to 0.8), exact (one common norm per task)")
                .paper("literal"),
            number_option("magnitude_init", 1.0, 1e-6, 1e6, "",
                          "initial magnitude α_t of a new task's direction (0.8 with handover = released-code)"),
            bool_option("carry_magnitudes", true,
                        "old magnitudes keep their learned values into the next task (false: reset to "
                        "magnitude_init at every hand-over; false with handover = released-code)"),
            choice_option("direction_norm", kDirectionNormNames, DirectionNorm::product,
                          "a finished direction is divided by ‖B A‖_F (product) or ‖B‖_F ‖A‖_F (factors, the "
                          "released code's; the default with handover = released-code)"),
            rank_schedule_option("rank_schedule",
                                 v == SDLoRAVariant::rank_reduction
                                     ? std::vector<std::pair<int, int>>{{0, 10}, {4, 8}, {8, 6}}
                                     : std::vector<std::pair<int, int>>{},
                                 "[[first_task, rank], ...]: task t's adapter takes the rank of the last entry with "
                                 "first_task ≤ t ([] = method.rank for every task)"),
            integer_option(
                "state_every", 8, 0, 1000000, "steps",
                "record magnitudes and the direction residual every this many steps (0 = at task ends only)"),
            integer_option("interpolation_points", 11, 0, 1001, "points",
                           "λ points of the merge interpolation between the solutions after tasks 0 and 1 (0 = off)"),
            choice_option("accuracy_matrix", kAccuracyMatrixPhaseNames, AccuracyMatrixPhase::after_handover,
                          "which measurement at a task's end is the accuracy matrix: after-handover (after the "
                          "hand-over) or before-handover (right after training, as the released code measures); "
                          "the other is kept as after_handover rows"),
        }};
        if (v == SDLoRAVariant::plain)
            s.options.push_back(choice_option(
                "ablation", kSDLoRAAblationNames, SDLoRAAblation::none,
                "the paper's ablations (Table 4): first-direction-only (after task 0 only α_0 and the heads train, "
                "no new directions), single-decoupled (one direction W0 + α·BA/‖BA‖ whose B, A, α train through "
                "the stream), old-magnitudes-fixed (finished directions held at magnitude 1, only the newest "
                "α trains)"));
        if (v == SDLoRAVariant::knowledge_distillation) {
            s.options.push_back(number_option("kd_tau", 9e-4, 0.0, 1e3, "",
                                              "drop a new direction whose relative least-squares residual against the "
                                              "old ones is at most this"));
            s.options.push_back(choice_option("kd_update", kKDUpdateNames, KDUpdate::function_preserving,
                                              "on a drop: α_k += α_t β_k (function-preserving) or α_k += β_k (as the "
                                              "paper prints it)")
                                    .paper("paper"));
            s.options.push_back(
                choice_option("kd_granularity", kKDGranularityNames, KDGranularity::global,
                              "one least-squares fit over all adapted matrices (global) or one per matrix"));
        }
        return s;
    };
    static const MethodOptionSchema plain = build(SDLoRAVariant::plain);
    static const MethodOptionSchema rr = build(SDLoRAVariant::rank_reduction);
    static const MethodOptionSchema kd = build(SDLoRAVariant::knowledge_distillation);
    return variant == SDLoRAVariant::rank_reduction           ? rr
           : variant == SDLoRAVariant::knowledge_distillation ? kd
                                                              : plain;
}

SDLoRAOptions SDLoRAOptions::from_config(const ExperimentConfig& config, SDLoRAVariant variant) {
    SDLoRAOptions o;
    OptionReader r(schema(variant), config.method.options);
    r.read("handover", o.handover, kSDLoRAHandoverNames);
    r.read("magnitude_init", o.magnitude_init);
    r.read("carry_magnitudes", o.carry_magnitudes);
    r.read("direction_norm", o.direction_norm, kDirectionNormNames);
    const bool released_code = o.handover == SDLoRAHandover::released_code;
    // handover = released-code changes the defaults of the options it implies; given values still win.
    if (released_code) {
        if (!r.given("magnitude_init")) o.magnitude_init = 0.8;
        if (!r.given("carry_magnitudes")) o.carry_magnitudes = false;
        if (!r.given("direction_norm")) o.direction_norm = DirectionNorm::factors;
    }
    if (released_code && o.carry_magnitudes)
        throw ConfigError(r.field("carry_magnitudes"),
                          "true contradicts handover = released-code, which resets every "
                          "magnitude (allowed with it: false; use handover = literal to combine freely)");
    if (released_code && o.direction_norm != DirectionNorm::factors)
        throw ConfigError(r.field("direction_norm"),
                          "'" + name_of(kDirectionNormNames, o.direction_norm) +
                              "' contradicts handover = released-code, which "
                              "uses factor norms (allowed with it: factors; use handover = literal to combine freely)");
    r.read_rank_schedule("rank_schedule", o.rank_schedule);
    if (variant == SDLoRAVariant::knowledge_distillation) {
        o.knowledge_distillation = true;
        r.read("kd_tau", o.kd_tau);
        r.read("kd_update", o.kd_update, kKDUpdateNames);
        r.read("kd_granularity", o.kd_granularity, kKDGranularityNames);
    }
    r.read("state_every", o.state_every);
    r.read("interpolation_points", o.interpolation_points);
    r.read("accuracy_matrix", o.accuracy_matrix, kAccuracyMatrixPhaseNames);
    if (variant == SDLoRAVariant::plain) {
        r.read("ablation", o.ablation, kSDLoRAAblationNames);
        const bool one_direction =
            o.ablation == SDLoRAAblation::first_direction_only || o.ablation == SDLoRAAblation::single_decoupled;
        for (const auto& [first, rank] : o.rank_schedule)
            if (one_direction && first > 0)
                throw ConfigError(r.field("rank_schedule"),
                                  "an entry for task " + std::to_string(first) +
                                      " contradicts ablation = " + name_of(kSDLoRAAblationNames, o.ablation) +
                                      ", which keeps task 0's direction only (its rank: the entry for task 0 or "
                                      "method.rank)");
        if (o.ablation == SDLoRAAblation::single_decoupled && o.handover == SDLoRAHandover::exact)
            throw ConfigError(r.field("handover"),
                              "'exact' contradicts ablation = single-decoupled, whose direction is normalised "
                              "per matrix from task 1 on (allowed: rescale, literal, released-code)");
    }
    r.finish();
    return o;
}

int SDLoRAOptions::rank_for_task(int task, int default_rank) const {
    int rank = default_rank;
    for (const auto& [first, r] : rank_schedule)
        if (first <= task) rank = r;
    return rank;
}

// ---- declarations (registered_methods.def) ----------------------------------------------------------

const MethodDeclaration& sd_lora_declaration() {
    static const MethodDeclaration d{
        "sd-lora",
        "frozen per-task directions with learnable shared magnitudes (arXiv 2501.13198)",
        &SDLoRAOptions::schema(SDLoRAVariant::plain),
        [](const ExperimentConfig& c) { (void)SDLoRAOptions::from_config(c, SDLoRAVariant::plain); },
        {StateKey::magnitudes, StateKey::direction_residual},
        {AnalysisKey::merge_interpolation},
        true,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {"sd-lora", "default", "sd-lora-paper", "sd-lora-released-code", "sd-lora-ablation-first-direction-only",
         "sd-lora-ablation-single-decoupled", "sd-lora-ablation-old-magnitudes-fixed",
         "sd-lora-ablation-first-direction-only-vitb-imagenet-r-10",
         "sd-lora-ablation-single-decoupled-vitb-imagenet-r-10",
         "sd-lora-ablation-old-magnitudes-fixed-vitb-imagenet-r-10", "sd-lora-vitb-cifar100-10",
         "sd-lora-vitb-cub200-10", "sd-lora-vitb-domainnet-5", "sd-lora-vitb-imagenet-a-10",
         "sd-lora-vitb-imagenet-r-10", "sd-lora-vitb-imagenet-r-20", "sd-lora-vitb-imagenet-r-5"}};
    return d;
}

const MethodDeclaration& sd_lora_rr_declaration() {
    static const MethodDeclaration d{
        "sd-lora-rr",
        "SD-LoRA with a rank schedule that shrinks over the stream (rank reduction)",
        &SDLoRAOptions::schema(SDLoRAVariant::rank_reduction),
        [](const ExperimentConfig& c) { (void)SDLoRAOptions::from_config(c, SDLoRAVariant::rank_reduction); },
        {StateKey::magnitudes, StateKey::direction_residual, StateKey::ranks},
        {AnalysisKey::merge_interpolation},
        true,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {"sd-lora-rr"}};
    return d;
}

const MethodDeclaration& sd_lora_kd_declaration() {
    static const MethodDeclaration d{
        "sd-lora-kd",
        "SD-LoRA that absorbs a new direction the old ones reproduce (least squares)",
        &SDLoRAOptions::schema(SDLoRAVariant::knowledge_distillation),
        [](const ExperimentConfig& c) { (void)SDLoRAOptions::from_config(c, SDLoRAVariant::knowledge_distillation); },
        {StateKey::magnitudes, StateKey::direction_residual, StateKey::ranks},
        {AnalysisKey::merge_interpolation},
        true,
        {BackboneFamily::vit, BackboneFamily::resnet},
        {"sd-lora-kd"}};
    return d;
}

}  // namespace lorica
