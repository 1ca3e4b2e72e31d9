#pragma once
// A run's checkpoint: what a finished task leaves on disk, so the run can be exported or inspected
// later without training again.
//
// Layout under the run's checkpoint directory (`run_checkpoint_dir`):
//   foundation_backbone.safetensors   the backbone before the first stream task (timm names, with the
//                                     foundation head as `head.*`), written once
//   task_<t>/checkpoint.json          {format, task, method, config_hash, seed,
//                                      backbone_description{family, sizes...} (older: vit{...}), head_classes[],
//                                      backbone: file name relative to the run directory, ...}
//   task_<t>/backbone.safetensors     the backbone after task t, only when it differs from the
//                                     foundation backbone (full fine-tuning, merged LoRA); otherwise
//                                     checkpoint.json points at foundation_backbone.safetensors
//   task_<t>/heads.safetensors        stream heads 0..: "heads.<i>.weight" [classes_i, dim], ".bias"
//   task_<t>/adapter_set.safetensors  the method's AdapterSet after task t (adapter_set.h)
// Each task directory is announced as an ArtifactWritten of kind "run_checkpoint" whose meta_json holds
// {"task": t, "dir": ...}; `lorica-cli export` finds it through the store's artifacts table.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "engine/io/adapter_set.h"
#include "engine/model/task_heads.h"
#include "engine/model/backbone.h"
#include "engine/vocabulary/events.h"

namespace lorica {

inline constexpr const char* kArtifactRunCheckpoint = "run_checkpoint";
inline constexpr const char* kFoundationBackboneFile = "foundation_backbone.safetensors";

// <cache_dir>/runs/<config_hash>-seed<seed>-<UTC time>-<pid>: a fresh directory per run.
std::string make_run_checkpoint_dir(const std::string& cache_dir, const std::string& config_hash, int64_t seed);

// Writes foundation_backbone.safetensors into `run_dir` (created when missing).
void write_foundation_backbone(const std::string& run_dir, Backbone model);

struct TaskCheckpointInfo {
    int task = 0;
    std::string method;
    std::string config_hash;
    int64_t seed = 0;
};

// Writes task_<t>/ (see above) and returns the ArtifactWritten to emit.
ArtifactWritten write_task_checkpoint(const std::string& run_dir, const TaskCheckpointInfo& info, Backbone model,
                                      TaskHeads& heads, const AdapterSet& adapters);

// A task checkpoint read back.
struct TaskCheckpoint {
    std::string dir;               // task_<t> directory
    nlohmann::json info;           // checkpoint.json
    Backbone model{nullptr};       // backbone with the foundation head, no adapter terms
    Backbone foundation{nullptr};  // the foundation backbone (same object as `model` when unchanged)
    torch::Tensor head_weight;     // stream heads concatenated (class-IL order) [Σ classes, dim]
    torch::Tensor head_bias;       // [Σ classes]
    AdapterSet adapters;
};

// Reads task_<t>/ (the path of the task directory). Throws std::runtime_error naming the file.
TaskCheckpoint read_task_checkpoint(const std::string& task_dir);

}  // namespace lorica
