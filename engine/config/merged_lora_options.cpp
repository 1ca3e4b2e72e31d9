#include "engine/config/merged_lora_options.h"

namespace lorica {

const MethodOptionSchema& MergedLoRAOptions::schema(const std::string& registered_name) {
    auto build = [](MergedUpdate update) {
        return MethodOptionSchema{{
            choice_option("after_task", kAfterTaskNames, AfterTask::merge,
                          "at a task's end fold the update into W (merge) or discard it (drop, the paper's control)"),
            choice_option("update", kMergedUpdateNames, update,
                          "a LoRA pair per task (lora) or full fine-tuning of exactly the adapted weights (full)"),
            number_option("alpha_per_rank", 2.0, 0.0, 1e6, "",
                          "alpha = alpha_per_rank · rank, so the scale is the same at every rank (the paper's alpha = "
                          "2r); 0 = method.alpha"),
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
    r.finish();
    return o;
}

}  // namespace lorica
