#pragma once
// The prefetch of a sample source (streamed_samples.h, prepared/prepared_samples.h): the batches
// announced by `plan`, up to `ahead` of them submitted before they are asked for; `take` hands out
// the next one when it matches the request, else drops the plan and submits the request alone.
//
//   BatchPlan plan(2, [&](const torch::Tensor& index, BatchMode mode, uint64_t seed) { return submit(…); });
//   plan.plan({b0, b1, b2}, mode, seed);  // submits b0 and b1
//   plan.take(b0, mode, seed)->wait();    // b0's jobs (b2 is submitted now); then b1, b2
//
// A planned batch matches a request when its mode, its seed and its index (int64 [B], equal values)
// are the request's. `plan` keeps the batches already submitted that the new plan starts with (same
// position, same batch) and drops the rest; a request that does not match the plan's next batch
// drops the whole plan. Dropped batches are waited for (their errors ignored) before anything new is
// submitted, so they never delay the next batches; the destructor waits for every batch still held.
// What `take` returns is what the submit function returned; the caller waits for it.
//
// Threading: used from one thread (the source's). The submit function starts the batch's jobs on
// other threads (a DecodePool); each job calls PendingBatch::job_done once, from any thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <torch/types.h>

#include "engine/data/sample_source.h"

namespace lorica {

// One batch whose jobs run on other threads: how many are left, the first error. A source derives
// its batch's buffers from it.
class PendingBatch {
public:
    explicit PendingBatch(int64_t jobs) : remaining_(jobs) {}
    virtual ~PendingBatch() = default;
    PendingBatch(const PendingBatch&) = delete;
    PendingBatch& operator=(const PendingBatch&) = delete;

    // Called once by each job when it ends; `error` is its exception (null when it succeeded).
    void job_done(std::exception_ptr error);
    // Blocks until every job has ended; rethrows the first error.
    void wait();
    bool done() const;

private:
    mutable std::mutex mutex_;
    std::condition_variable done_;
    int64_t remaining_;
    std::exception_ptr error_;
};

class BatchPlan {
public:
    // Starts the jobs of one batch (positions `index`, int64 [B] on the CPU) and returns at once.
    using Submit =
        std::function<std::shared_ptr<PendingBatch>(const torch::Tensor& index, BatchMode mode, uint64_t seed)>;

    // `ahead`: batches submitted before they are asked for (< 0 counts as 0).
    BatchPlan(int ahead, Submit submit);
    ~BatchPlan();  // waits for every batch it holds
    BatchPlan(const BatchPlan&) = delete;
    BatchPlan& operator=(const BatchPlan&) = delete;

    // Replaces the plan with `batches`, in this order, keeping the matching head already submitted.
    void plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed);
    // The plan's next batch when it matches (then the next `ahead` are submitted), else a new
    // submission of this one after the plan is dropped.
    std::shared_ptr<PendingBatch> take(const torch::Tensor& index, BatchMode mode, uint64_t seed);

    size_t planned() const { return plan_.size(); }  // batches announced, not yet taken
    size_t submitted() const;                        // of those, submitted

private:
    struct Planned {
        torch::Tensor index;
        BatchMode mode;
        uint64_t seed;
        std::shared_ptr<PendingBatch> pending;  // null until submitted
    };
    void top_up();

    int ahead_;
    Submit submit_;
    std::deque<Planned> plan_;
};

}  // namespace lorica
