#pragma once
// LoRI's options (`method.options` of lori-d, lori-s, lori-merge; engine/methods/lori.h describes what
// each does): the enumerations, their config spellings, the declaration (name, type, default, range,
// doc) and the parser. Torch-free, so `lorica-cli config` and `methods --options` check and print them
// without LibTorch; the method reads the same options through parse_lori_options.

#include <string>

#include "engine/config/enum_names.h"
#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

// method.options.mask_granularity (LoRI-S): one magnitude threshold over all adapted matrices, per
// layer, or per matrix (engine/methods/lori_mask.h).
enum class MaskGranularity { global, per_layer, per_matrix };
inline constexpr EnumNames<MaskGranularity, 3> kMaskGranularityNames{{{MaskGranularity::global, "global"},
                                                                      {MaskGranularity::per_layer, "per-layer"},
                                                                      {MaskGranularity::per_matrix, "per-matrix"}}};
// method.options.merge: how task adapters are merged (engine/methods/adapter_merge.h).
enum class MergeKind { cat, linear };
inline constexpr EnumNames<MergeKind, 2> kMergeKindNames{{{MergeKind::cat, "cat"}, {MergeKind::linear, "linear"}}};

// method.options.variant: dense B (d) or B sparse by a calibrated mask (s).
enum class LoRIVariant { dense, sparse };
inline constexpr EnumNames<LoRIVariant, 2> kLoRIVariantNames{{{LoRIVariant::dense, "d"}, {LoRIVariant::sparse, "s"}}};
// method.options.mode: one adapter continued through the stream, or one per task merged.
enum class LoRIMode { continual, merge };
inline constexpr EnumNames<LoRIMode, 2> kLoRIModeNames{
    {{LoRIMode::continual, "continual"}, {LoRIMode::merge, "merge"}}};
// method.options.a_seed_mode: one frozen random A for every task, or a fresh one per task.
enum class LoRIASeedMode { by_mode, shared, per_task };  // by_mode: per_task when merging, else shared
inline constexpr EnumNames<LoRIASeedMode, 2> kLoRIASeedModeNames{
    {{LoRIASeedMode::shared, "shared"}, {LoRIASeedMode::per_task, "per-task"}}};
// method.options.calibration_head: the head after the calibration pass is reset to its start or kept.
enum class CalibrationHead { reset, keep };
inline constexpr EnumNames<CalibrationHead, 2> kCalibrationHeadNames{
    {{CalibrationHead::reset, "reset"}, {CalibrationHead::keep, "keep"}}};

struct LoRIOptions {
    LoRIVariant variant = LoRIVariant::dense;
    LoRIMode mode = LoRIMode::continual;
    LoRIASeedMode a_seed_mode = LoRIASeedMode::by_mode;  // resolved by parse_lori_options
    double sparsity = 0.9;
    MaskGranularity mask_granularity = MaskGranularity::global;
    double sparse_lr_multiplier = 10.0;
    double clip_per_tensor = 1.0;
    CalibrationHead calibration_head = CalibrationHead::reset;
    MergeKind merge = MergeKind::cat;
    double merge_weight = -1.0;  // < 0: by variant (0.5 / 0.4); 0: uniform 1 / (t + 1)

    bool sparse() const { return variant == LoRIVariant::sparse; }
    bool merging() const { return mode == LoRIMode::merge; }
    bool per_task_a() const { return a_seed_mode == LoRIASeedMode::per_task; }
};

// The defaults of a registered name: lori-d (dense, continual), lori-s (sparse, continual),
// lori-merge (dense, merge).
LoRIOptions lori_registered_defaults(const std::string& registered_name);
// The declaration of LoRI's options with the defaults of a registered name (lori_d/s/merge: `defaults`
// has that name's variant and mode).
const MethodOptionSchema& lori_option_schema(const LoRIOptions& defaults);
// Reads method.options through lori_option_schema(defaults); throws ConfigError naming the field and
// the allowed values.
LoRIOptions parse_lori_options(const ExperimentConfig& config, LoRIOptions defaults);

}  // namespace lorica
