#include "engine/data/batch_plan.h"

#include <algorithm>
#include <utility>

#include <torch/torch.h>

namespace lorica {

void PendingBatch::job_done(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error && !error_) error_ = std::move(error);
    if (--remaining_ == 0) done_.notify_all();
}

void PendingBatch::wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return remaining_ <= 0; });
    if (error_) std::rethrow_exception(error_);
}

bool PendingBatch::done() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return remaining_ <= 0;
}

namespace {

void batch_plan_wait_quietly(PendingBatch& pending) {
    try {
        pending.wait();
    } catch (...) {}  // a dropped batch's error is nobody's: its batch is never handed out
}

}  // namespace

BatchPlan::BatchPlan(int ahead, Submit submit) : ahead_(std::max(0, ahead)), submit_(std::move(submit)) {}

BatchPlan::~BatchPlan() {
    // Jobs in flight read their source's state: the source outlives none of them.
    for (auto& p : plan_)
        if (p.pending) batch_plan_wait_quietly(*p.pending);
}

size_t BatchPlan::submitted() const {
    return static_cast<size_t>(
        std::count_if(plan_.begin(), plan_.end(), [](const Planned& p) { return p.pending != nullptr; }));
}

void BatchPlan::top_up() {
    int submitted = 0;
    for (auto& p : plan_) {
        if (submitted >= ahead_) break;
        if (!p.pending) p.pending = submit_(p.index, p.mode, p.seed);
        ++submitted;
    }
}

void BatchPlan::plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed) {
    // Batches already in flight that the new plan starts with are kept; the rest is dropped.
    std::deque<Planned> next;
    for (const auto& b : batches) next.push_back({b, mode, seed, nullptr});
    for (size_t k = 0; k < next.size() && k < plan_.size(); ++k) {
        const Planned& old = plan_[k];
        if (!old.pending || old.mode != mode || old.seed != seed || !torch::equal(old.index, next[k].index)) break;
        next[k].pending = old.pending;
    }
    for (auto& old : plan_)  // wait for dropped jobs: they would otherwise delay the next batches
        if (old.pending &&
            std::none_of(next.begin(), next.end(), [&](const Planned& n) { return n.pending == old.pending; }))
            batch_plan_wait_quietly(*old.pending);
    plan_ = std::move(next);
    top_up();
}

std::shared_ptr<PendingBatch> BatchPlan::take(const torch::Tensor& index, BatchMode mode, uint64_t seed) {
    if (!plan_.empty() && plan_.front().mode == mode && plan_.front().seed == seed &&
        torch::equal(plan_.front().index, index)) {
        if (!plan_.front().pending) plan_.front().pending = submit_(index, mode, seed);
        std::shared_ptr<PendingBatch> pending = std::move(plan_.front().pending);
        plan_.pop_front();
        top_up();
        return pending;
    }
    plan({}, mode, seed);  // off plan: drop it
    return submit_(index, mode, seed);
}

}  // namespace lorica
