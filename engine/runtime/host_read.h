#pragma once
// Every read of tensor values by the engine's host code goes through here (a test scans engine/ for
// `.item(` outside host_read.cpp), so that reads can be counted and kept out of the training step.
//
// What a host read costs: on a GPU, kernels are queued on a stream and run later; reading a value
// (`item()`, a copy to the CPU, an accessor on a copied tensor) blocks the host until every kernel
// queued before it has run, then copies the value back (one round trip, ~10–50 µs plus the wait).
// While the host waits, nothing new is queued, so the GPU idles from the end of that read until the
// host has queued the next kernels: a read in every step costs the step's launch latency every step.
// On the CPU a read costs nothing (the value is already computed when the op returns).
//
// When a read is allowed:
//   - per run, per task, per pass, per evaluation (task boundaries, hand-overs, masks, Fisher passes,
//     analyses, checkpoints, evaluation counts);
//   - at the boundary of a block of steps: the step losses and the step-time values the front ends
//     need (AdapterMethod::step_state) are read back together in one stacked copy per block
//     (engine/train/step_loss_log.h, loss_readback.h);
//   - never inside a training step (forward, loss, backward, optimizer step, the method's hooks
//     before_step / regularizer / after_backward / after_step, step_state). The one exception is
//     fp16 loss scaling (engine/train/grad_scaler.h): whether to skip the optimizer step is decided
//     on the host from one flag per step, as torch.amp.GradScaler does; bf16 (the GPU default) and
//     fp32 have no scaler and no read.
//
// Counting: every call counts one read in a process-wide atomic counter, on every device (so a CPU
// test sees the reads that a GPU run would make). A read made on a thread while a TrainingStepScope
// is alive there also counts in `host_reads_in_step()` and records its call site (file:line), so a
// test can say where a step read a value. Reads inside LibTorch that do not pass through here (e.g.
// linalg's error checks) are not counted; the headers of the callers name them.
//
//   HostReadCount count;                       // tests: reads while `count` lives
//   { TrainingStepScope in_step; train_step(...); }
//   EXPECT_EQ(count.in_step(), 0) << count.last_in_step_site();

#include <cstdint>
#include <source_location>
#include <string>
#include <vector>

#include <torch/types.h>

namespace lorica {

// One element (a 0-dim or one-element tensor of any dtype) as a double: `t.item<double>()`.
double read_scalar(const torch::Tensor& t, std::source_location where = std::source_location::current());

// One element (integral or bool dtype, or a float holding an integer) as an int64: `t.item<int64_t>()`.
int64_t read_int(const torch::Tensor& t, std::source_location where = std::source_location::current());

// Every element of `t` in row-major order, as doubles (float → double is exact): one device→host copy.
std::vector<double> read_values(const torch::Tensor& t, std::source_location where = std::source_location::current());

// Every element of `t` (integral or bool dtype) in row-major order, as int64: one device→host copy.
std::vector<int64_t> read_ints(const torch::Tensor& t, std::source_location where = std::source_location::current());

// `t.to(torch::kCPU)`: the tensor itself when it is already on the CPU, a host copy otherwise.
torch::Tensor copy_to_host(const torch::Tensor& t, std::source_location where = std::source_location::current());

// Reads since the process started; reads made inside a training step.
int64_t host_reads();
int64_t host_reads_in_step();

// Marks the calling thread as inside one training step while it lives (the trainer's step loop).
// Nests: the thread is in a step while any scope on it lives.
class TrainingStepScope {
public:
    TrainingStepScope();
    ~TrainingStepScope();
    TrainingStepScope(const TrainingStepScope&) = delete;
    TrainingStepScope& operator=(const TrainingStepScope&) = delete;
};

// The reads that happened (on any thread) while this object lived.
class HostReadCount {
public:
    HostReadCount();
    int64_t reads() const;    // every read
    int64_t in_step() const;  // reads inside a training step
    // "file:line" of the newest read inside a training step (process-wide; "" when none happened).
    static std::string last_in_step_site();

private:
    int64_t reads_at_start_;
    int64_t in_step_at_start_;
};

}  // namespace lorica
