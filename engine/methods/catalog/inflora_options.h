#pragma once
// InfLoRA's options (`method.options` of inflora; engine/methods/inflora.h describes the method): the
// declaration (name, type, default, range, doc) and the parser. Torch-free, so `lorica-cli config` and
// `methods --options` check and print them without LibTorch; the method reads them through from_config.
//
//   lamb              0.98  DualGPM energy threshold after the first task (the official ImageNet-R value,
//                           configs/mimg10_inflora.json; CIFAR-100 uses 0.95)
//   lame              1.0   threshold after the last task; task t (0-based) of T uses
//                           lamb + (lame − lamb) · t / T (methods/inflora.py, update_DualGPM)
//   feature_batches   0     batches of the task's training images the input features are averaged
//                           over, before and after training; 0 = all (the official code's whole loader)
//
// Rules between the options and the rest of the config (check_options, ConfigError):
//   method.rank ≤ backbone.dim (A_t is the top-r left singular vectors of a [dim, dim] matrix);
//   method.targets only q, k, v, qkv or qkv patterns (the features are the attention's input tokens);
//   lamb ≤ lame is not required (the official code allows either order), both in [0, 1].

#include "engine/config/experiment_config.h"
#include "engine/config/option_schema.h"

namespace lorica {

struct InfLoRAOptions {
    double lamb = 0.98;
    double lame = 1.0;
    int feature_batches = 0;

    static const MethodOptionSchema& schema();
    // Reads `method.options` through schema() and checks the rules above; throws
    // ConfigError("method.options.<name>" | "method.rank" | "method.targets", ...).
    static InfLoRAOptions from_config(const ExperimentConfig& config);
    // DualGPM threshold after task `task` (0-based) of `tasks`: lamb + (lame − lamb) · task / tasks.
    double threshold(int task, int tasks) const;
};

}  // namespace lorica
