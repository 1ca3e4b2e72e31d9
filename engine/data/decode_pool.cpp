#include "engine/data/decode_pool.h"

#include <algorithm>
#include <atomic>

#include <c10/util/ParallelGuard.h>
#include <torch/torch.h>

#include "engine/runtime/thread_ops_parallelism.h"

namespace lorica {

DecodePool::DecodePool(int threads) {
    for (int k = 0; k < threads; ++k) threads_.emplace_back([this] { loop(); });
}

DecodePool::~DecodePool() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
        jobs_.clear();
    }
    ready_.notify_all();
    for (auto& t : threads_) t.join();
}

void DecodePool::submit(std::function<void()> job) {
    if (threads_.empty()) {
        job();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        jobs_.push_back(std::move(job));
    }
    ready_.notify_one();
}

void DecodePool::for_each_index(int64_t n, const std::function<void(int64_t)>& job) {
    std::atomic<int64_t> next{0};
    auto take_indices = [&] {
        for (int64_t i = next++; i < n; i = next++) job(i);
    };
    // One helper per pool thread; each ends when the indices run out. The caller waits for all of
    // them: they read this frame.
    std::mutex mutex;
    std::condition_variable finished;
    int running = threads();
    for (int k = 0; k < threads(); ++k)
        submit([&] {
            take_indices();
            std::lock_guard<std::mutex> lock(mutex);
            if (--running == 0) finished.notify_all();
        });
    take_indices();
    std::unique_lock<std::mutex> lock(mutex);
    finished.wait(lock, [&] { return running == 0; });
}

void DecodePool::loop() {
    // One core per decoder: no intra-op threads from here (both are needed: thread_ops_parallelism.h).
    c10::ParallelGuard serial(true);
    run_ops_on_this_thread_only();
    torch::NoGradGuard no_grad;
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            ready_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
            jobs_.pop_front();
        }
        job();
    }
}

int resolve_data_workers(int configured) {
    if (configured > 0) return configured;
    const int hardware = static_cast<int>(std::thread::hardware_concurrency());
    return std::max(1, hardware - 1);
}

}  // namespace lorica
