#pragma once
// The small two-task experiment that the fp32 determinism test (fp32_cpu_digest_test.cpp) and the
// CPU fast-path test (cpu_fast_paths_test.cpp) both run: one config, so that the two tests keep
// checking the same run.
//
// Foundation 3 classes × 120 images (1 epoch, batch 40), 2 tasks × 2 classes × 96 images (identity,
// rot90), 2 epochs of batch 32: 24 stream steps (6 per epoch); rank-4 LoRA with alpha 4 (scale 1),
// lr 2e-3 (heads 5e-3); evaluation before, during (every 4 steps) and after each task; one thread.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace lorica::testing {

// `method` (a method registry name) on the CPU; the foundation checkpoint is cached in `dir`/cache.
inline nlohmann::json two_task_experiment_config(const std::filesystem::path& dir, const std::string& method,
                                                 const std::string& name) {
    return {{"name", name},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", (dir / "cache").string()},
            {"data", {{"train_per_class", 96}, {"test_per_class", 40}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 120}, {"epochs", 1}, {"batch_size", 40}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"method", {{"name", method}, {"rank", 4}, {"alpha", 4.0}}},
            {"train", {{"epochs", 2}, {"batch_size", 32}, {"optimizer", {{"lr", 2e-3}, {"head_lr", 5e-3}}}}},
            {"eval", {{"every_steps", 4}}}};
}

}  // namespace lorica::testing
