#pragma once
// SD-LoRA's options (`method.options` of sd-lora, sd-lora-rr, sd-lora-kd; engine/methods/sd_lora.h
// describes what each does): the enumerations, their config spellings, the declaration (name, type,
// default, range, doc) and the parser. Torch-free, so `lorica-cli config` and `methods --options`
// check and print them without LibTorch; the method reads the same options through from_config.

#include <utility>
#include <vector>

#include "engine/config/enum_names.h"
#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

enum class SDLoRAVariant { plain, rank_reduction, knowledge_distillation };

// method.options.handover: how a finished task's update becomes a frozen direction (see above).
enum class SDLoRAHandover { rescale, literal, released_code, exact };
inline constexpr EnumNames<SDLoRAHandover, 4> kSDLoRAHandoverNames{{{SDLoRAHandover::rescale, "rescale"},
                                                                    {SDLoRAHandover::literal, "literal"},
                                                                    {SDLoRAHandover::released_code, "released-code"},
                                                                    {SDLoRAHandover::exact, "exact"}}};
// method.options.direction_norm: ‖B A‖_F (product) or ‖B‖_F ‖A‖_F (factors, the released code's).
enum class DirectionNorm { product, factors };
inline constexpr EnumNames<DirectionNorm, 2> kDirectionNormNames{
    {{DirectionNorm::product, "product"}, {DirectionNorm::factors, "factors"}}};
// method.options.kd_update (SD-LoRA-KD): keep α_t β_k (function-preserving) or add β_k (paper).
enum class KDUpdate { function_preserving, paper };
inline constexpr EnumNames<KDUpdate, 2> kKDUpdateNames{
    {{KDUpdate::function_preserving, "function-preserving"}, {KDUpdate::paper, "paper"}}};
// method.options.kd_granularity (SD-LoRA-KD): one fit over all matrices, or one per matrix.
enum class KDGranularity { global, per_matrix };
inline constexpr EnumNames<KDGranularity, 2> kKDGranularityNames{
    {{KDGranularity::global, "global"}, {KDGranularity::per_matrix, "per-matrix"}}};

// method.options.ablation (sd-lora only): the paper's ablations (its Table 4 and Finding 1).
enum class SDLoRAAblation { none, first_direction_only, single_decoupled, old_magnitudes_fixed };
inline constexpr EnumNames<SDLoRAAblation, 4> kSDLoRAAblationNames{
    {{SDLoRAAblation::none, "none"},
     {SDLoRAAblation::first_direction_only, "first-direction-only"},
     {SDLoRAAblation::single_decoupled, "single-decoupled"},
     {SDLoRAAblation::old_magnitudes_fixed, "old-magnitudes-fixed"}}};
// method.options.accuracy_matrix: which measurement of a task's end forms the accuracy matrix.
enum class AccuracyMatrixPhase { after_handover, before_handover };
inline constexpr EnumNames<AccuracyMatrixPhase, 2> kAccuracyMatrixPhaseNames{
    {{AccuracyMatrixPhase::after_handover, "after-handover"},
     {AccuracyMatrixPhase::before_handover, "before-handover"}}};

struct SDLoRAOptions {
    double magnitude_init = 1.0;
    bool carry_magnitudes = true;
    DirectionNorm direction_norm = DirectionNorm::product;
    SDLoRAHandover handover = SDLoRAHandover::rescale;
    std::vector<std::pair<int, int>> rank_schedule;  // (first task index, rank), empty = method.rank
    bool knowledge_distillation = false;             // set by the registered name sd-lora-kd
    double kd_tau = 9e-4;
    KDUpdate kd_update = KDUpdate::function_preserving;
    KDGranularity kd_granularity = KDGranularity::global;
    int state_every = 8;
    int interpolation_points = 11;
    SDLoRAAblation ablation = SDLoRAAblation::none;  // sd-lora only
    AccuracyMatrixPhase accuracy_matrix = AccuracyMatrixPhase::after_handover;

    // The declaration of the variant's options (name, type, default, range, doc; the one source).
    static const MethodOptionSchema& schema(SDLoRAVariant variant);
    // Reads `method.options` through schema(variant); throws ConfigError("method.options.<name>", ...).
    static SDLoRAOptions from_config(const ExperimentConfig& config, SDLoRAVariant variant);
    // Rank of task t's adapter.
    int rank_for_task(int task, int default_rank) const;
};

}  // namespace lorica
