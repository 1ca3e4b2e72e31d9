#pragma once
// One run: the experiment for one seed, task by task.
//
//   1. the stream's tensors (foundation + tasks) from the raw data set
//   2. a backbone seeded from the seed; the random-init evaluation (R_rand, for forward transfer)
//   3. the foundation step (trained or loaded from cache) and its evaluation (after_task = -1)
//   4. per task t: new head → before_task evaluation of task t → method.begin_task → epochs of steps
//      (loss over the current task's logits or over all seen ones) → method.end_task →
//      end-of-task evaluation of tasks 0..t and of the foundation task → method state
//   5. RunFinished (finished, failed with the step named, or cancelled)
// Each task's checkpoint (run_checkpoint.h) also holds what resuming needs (resume_point.h).
//
// Every outcome is reported as events (see events.h); `run_stream` itself never throws for training
// errors: it returns the status it reported.

#include <cstdint>

#include "engine/config/experiment_config.h"
#include "engine/data/raw_dataset.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/event_listener.h"
#include "engine/vocabulary/events.h"

namespace lorica {

struct ResumePoint;  // engine/train/resume_point.h

struct RunRequest {
    const ExperimentConfig& config;
    const RawDataset& raw;
    int run_index = 0;
    int64_t seed = 0;
    // Set: continue from this task checkpoint (after task k) instead of starting: no random-init or
    // foundation step, the checkpoint's backbone, heads, method state and generators, then tasks k+1..
    // (engine/services/run_resume.h). Its checkpoints are written into the same run directory.
    const ResumePoint* resume = nullptr;
};

RunStatus run_stream(const RunRequest& request, EventListener& events, CancelToken& cancel);

// Stream optimizer steps of a run (for progress and ETA).
int64_t planned_stream_steps(const ExperimentConfig& config, int64_t train_samples_per_task);

}  // namespace lorica
