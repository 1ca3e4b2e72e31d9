#include "engine/config/baseline_options.h"

#include "engine/config/merged_lora_options.h"

namespace lorica {

const MethodOptionSchema& no_method_options() {
    static const MethodOptionSchema none;
    return none;
}

void expect_no_method_options(const ExperimentConfig& config) {
    OptionReader(no_method_options(), config.method.options).finish();
}

const MethodOptionSchema& SequentialLoRAOptions::schema() {
    static const MethodOptionSchema s{{
        integer_option("interpolation_points", 11, 0, 1001, "points",
                       "λ points of the merge interpolation between the solutions after tasks 0 and 1 (0 = off)"),
        lora_dropout_option(""),
    }};
    return s;
}

SequentialLoRAOptions SequentialLoRAOptions::from_config(const ExperimentConfig& config) {
    SequentialLoRAOptions o;
    OptionReader reader(schema(), config.method.options);
    reader.read("interpolation_points", o.interpolation_points);
    reader.read("dropout", o.dropout);
    reader.finish();
    return o;
}

}  // namespace lorica
