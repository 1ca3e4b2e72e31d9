#pragma once
// How long the training loop waited for its batches: the time the trainer's step loop spends getting
// each training batch — SampleSource::batch (a streamed or prepared source blocks there until its
// background workers have made the batch) plus the copy to the device — summed per thread.
//
// A run's training loop runs on the thread that called run_stream / run_experiment, so that thread's
// totals before and after a run give the run's wait; over the run's wall time, that is the share of
// the loop the data path held the step up (bench/bench_end_to_end.cpp). Evaluation batches, the
// foundation step and the method's own passes over a task (task_batches) are not counted.
// Cost: two steady_clock reads per step. Per thread, so concurrent runs never mix their totals.

#include <cstdint>

namespace lorica {

struct TrainingBatchWait {
    double seconds = 0.0;  // wall time spent getting training batches (source + copy to the device)
    int64_t batches = 0;   // training batches fetched
};

// The calling thread's totals since the thread started (the trainer adds one batch per step).
inline TrainingBatchWait& this_thread_training_batch_wait() {
    thread_local TrainingBatchWait totals;
    return totals;
}

}  // namespace lorica
