#pragma once
// The stream trainer's per-step reports with the loss read back in blocks (loss_readback.h).
//
// record() buffers one optimizer step's StepMetrics (everything but the loss, which is still a
// device tensor) and the method's step-time records (AdapterMethod::step_state, device tensors);
// flush() reads the pending losses and records back in one device→host copy, checks the losses, and
// emits in step order each step's StepMetrics followed by its MethodStates — every step's own loss
// and values, none averaged or dropped. With blocks of one step (the CPU default) the events come in
// the order an immediate read would give. record() flushes by itself when a
// block is full; the trainer also flushes before an evaluation and at the end of each epoch, so
// events keep their order relative to evaluations and EpochFinished.
//
// A non-finite loss fails the run with std::runtime_error naming the task, epoch and step where the
// loss FIRST became non-finite (not the step at which it was read back), as
//   "task 0, epoch 3, step 17: loss is nan (lower train.optimizer.lr or set train.grad_clip)"
// and, when the block held more than one step, "…; read back with steps 12–20". The steps after it
// in the block were computed (on NaN weights) but are not reported.
//
// step_ms: with blocks of one step (the CPU default) each step's own wall time, as measured by the
// trainer; with longer blocks the block's wall time (from the start of its first step to the end of
// the read-back, which waits for the device) divided by its steps — per-step host times mean little
// when the host only queues kernels.

#include <chrono>
#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "engine/methods/adapter_method.h"
#include "engine/train/loss_readback.h"
#include "engine/vocabulary/event_listener.h"
#include "engine/vocabulary/events.h"

namespace lorica {

class StepLossLog {
public:
    StepLossLog(int64_t every, EventListener& events);

    // One step taken: its metrics (loss ignored; step_ms = the step's host wall time), its loss and
    // the method's records of the step (emitted as MethodState{metrics.task, metrics.step, ...}).
    void record(StepMetrics metrics, const torch::Tensor& loss, std::vector<PendingMethodState> states = {});

    // Reads back and emits the pending steps; throws std::runtime_error on a non-finite loss.
    void flush();

    // Mean loss of the steps flushed since the previous call (0 when none); starts a new sum.
    double take_mean();

private:
    using Clock = std::chrono::steady_clock;
    LossReadback losses_;
    EventListener& events_;
    std::vector<StepMetrics> pending_;
    std::vector<std::vector<StateKey>> pending_keys_;  // per pending step, the keys of its records
    Clock::time_point block_start_;
    double sum_ = 0.0;
    int64_t count_ = 0;
};

}  // namespace lorica
