#pragma once
// The trainer's side of resuming a run: what a task checkpoint adds so the run can continue from it
// exactly, and putting it back into a fresh trainer (engine/train/stream_trainer.cpp).
//
// Carried from task k to task k + 1, besides the backbone and heads (run_checkpoint.h):
//   - the method's full state (AdapterMethod::save_state)
//   - torch's global CPU generator (LoRA factors are drawn from it; so would be anything else random
//     that is not seeded per task) and, on an accelerator, its default generator
//   - the evaluator's per-sample foundation hits (contextual forgetting compares against them)
//   - the global step and the number of analysis points emitted so far (the store keeps those)
// Seeded per task already, so nothing to carry (engine/util/seed_offsets.h): the data order (Batcher,
// SeedStream::task_batches + t, per epoch), the augmentation generator (SeedStream::task_augmentation
// + t), new heads (head_seed), LoRI's A (a_seed). The stream itself is rebuilt from the config and the seed.

#include <string>

#include <nlohmann/json.hpp>

#include "engine/io/resume_state.h"
#include "engine/methods/adapter_method.h"
#include "engine/model/task_heads.h"
#include "engine/model/backbone.h"
#include "engine/train/evaluator.h"

namespace lorica {

// A task checkpoint to continue from.
struct ResumePoint {
    std::string run_dir;        // the run's checkpoint directory
    std::string task_dir;       // run_dir/task_<k>
    nlohmann::json checkpoint;  // task_<k>/checkpoint.json
    ResumeState state;          // task_<k>/resume_state.safetensors (checked against resume.json)
};

// Reads and checks task_dir (every file of its resume.json manifest, then checkpoint.json and the
// resume state). Throws CheckpointFileError naming the file.
ResumePoint read_resume_point(const std::string& task_dir);

// What the trainer carries to the next task, after end_task(task) and the task's checkpoint.
ResumeState capture_resume_state(int task, int64_t step, const std::string& config_hash, int64_t seed,
                                 const AdapterMethod& method, const MethodContext& ctx, const Evaluator& evaluator,
                                 int64_t analysis_points);

// Writes the resume files into task_dir (just written by write_task_checkpoint), the manifest last.
void write_resume_files(const std::string& task_dir, const ResumeState& state);

// Loads the checkpoint's backbone into `model` (same architecture) and its heads into `heads` (none
// yet), on `device`.
void load_checkpoint_weights(const ResumePoint& point, Backbone model, TaskHeads& heads, torch::Device device);

// After method.begin_run on the loaded model: the method's state, the generators, the evaluator's hits.
// Throws CheckpointFileError (naming resume_state.safetensors) when the method state does not fit.
void restore_carried_state(const ResumePoint& point, AdapterMethod& method, MethodContext& ctx, Evaluator& evaluator);

}  // namespace lorica
