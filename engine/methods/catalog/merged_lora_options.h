#pragma once
// Merged incremental LoRA's options (`method.options` of merged-lora and merged-lora-ft;
// engine/methods/merged_lora.h describes what each does): the enumerations, their config spellings,
// the declaration and the parser. Torch-free, so `lorica-cli config` and `methods --options` check
// and print them without LibTorch.

#include <string>

#include "engine/config/enum_names.h"
#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

// method.options.after_task: fold the task's update into W (merge) or discard it (drop, a control).
enum class AfterTask { merge, drop };
inline constexpr EnumNames<AfterTask, 2> kAfterTaskNames{{{AfterTask::merge, "merge"}, {AfterTask::drop, "drop"}}};
// method.options.update: a LoRA pair per task, or full fine-tuning of the adapted weights (the control).
enum class MergedUpdate { lora, full };
inline constexpr EnumNames<MergedUpdate, 2> kMergedUpdateNames{
    {{MergedUpdate::lora, "lora"}, {MergedUpdate::full, "full"}}};

// The largest LoRA dropout accepted (the range is [0, 1): p = 1 would zero the branch and divide by 0).
inline constexpr double kMaxLoRADropout = 0.99;
// The declaration of a `dropout` option (PEFT's lora_dropout, LowRankTerm::dropout, default 0, range
// [0, kMaxLoRADropout]), shared by merged-lora and sequential-lora; `doc_tail` ends its doc line.
OptionSpec lora_dropout_option(const std::string& doc_tail);

struct MergedLoRAOptions {
    AfterTask after_task = AfterTask::merge;
    MergedUpdate update = MergedUpdate::lora;
    double alpha_per_rank = 2.0;  // 0 = method.alpha
    double dropout = 0.0;         // p of PEFT's lora_dropout on each task's LoRA pair (lora_dropout_option)

    // The declaration of the options of `registered_name` (merged-lora-ft: update defaults to full).
    static const MethodOptionSchema& schema(const std::string& registered_name);
    // Reads `method.options` through schema(registered_name); throws ConfigError("method.options.<name>", ...),
    // also for dropout > 0 with update = full (no low-rank branch to drop out).
    static MergedLoRAOptions from_config(const ExperimentConfig& config, const std::string& registered_name);
};

}  // namespace lorica
