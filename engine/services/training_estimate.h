#pragma once
// The set-up panel's summary of an experiment before it starts: trainable parameters per task, the
// optimizer steps of the stream, and a time estimate from training steps measured on the configured
// model.
//
// Trainable parameters of task t: what the trainer's optimizer gets on the task's first pass, i.e.
// count_parameters(method.parameter_groups) after begin_task(t) and begin_pass(0), plus the task's
// stream head (dim · classes + classes; the trainer adds it, as for `current-task` loss; `all-seen`
// adds every seen head). Counted on a freshly built model (no foundation step, no data), walking the
// tasks with begin_task / end_task and no training in between: a method whose trainable set depends
// on what was learnt would be counted as at a fresh start (none of the registered methods does).
//
// Steps per task: passes · min(ceil(images / batch_size) · epochs, max_steps_per_task), images =
// data.train_per_class · the task's classes (unknown, -1, when train_per_class = 0: all images).
// Data-set streams: each entry's classes (the catalogue's, or an image folder's class folders), its
// train_per_class · classes · subset_fraction images and its own epochs (unknown when train_per_class = 0).
//
// Step time: `measured_steps` training steps of task 0, the trainer's own (prepare_task,
// make_pass_optimizer and train_step: forward, the configured loss, loss scaling, backward, clipping,
// optimizer step; the configured precision, device, batch size; the stream head seeded as the
// trainer seeds it for the first seed), on random images of the configured shape, after one warm-up
// step; the mean wall time. It leaves out data loading (streamed data sets decode per batch),
// the foundation step and evaluation.
// Torch-free header; the estimate builds the model and trains, so call it off the GUI thread.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/config/experiment_config.h"

namespace lorica {

struct TrainingEstimate {
    std::vector<int64_t> trainable_per_task;  // one per task; -1 when it could not be counted
    std::vector<int64_t> head_per_task;       // of which the stream head(s)
    std::vector<int64_t> steps_per_task;      // -1 = unknown (train_per_class = 0)
    int64_t total_steps = -1;                 // all seeds; -1 when a task's steps are unknown
    int runs = 1;                             // seeds
    int measured_steps = 0;
    double seconds_per_step = 0.0;    // mean of the measured steps
    double estimated_seconds = -1.0;  // total_steps · seconds_per_step (-1 when unknown)
    std::string device;               // where the steps were measured
};

// Throws ConfigError / std::runtime_error naming the field or step that failed. `stop` (optional,
// read between steps): when it turns true the measurement ends early with the steps done so far.
//
// Randomness: building the model and the adapters draws from LibTorch's global CPU generator, as the
// trainer does; the estimate saves that generator's state and restores it when it returns. It must
// not run while a training run draws from the generator on another thread (the GUI stops its
// look-ups before it starts a run: ConfigEditor::stop_lookups).
TrainingEstimate estimate_training(const ExperimentConfig& config, int measured_steps = 3,
                                   const std::atomic<bool>* stop = nullptr);

}  // namespace lorica
