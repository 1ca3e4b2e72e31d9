#pragma once
// The data layer's one thread pool: a fixed set of threads running queued jobs in submission order.
// Its users: the streaming pipeline (one job = one sample of a batch: decode, transform, normalise),
// the streaming data set's background decodes, and the header checks of a streamed data set
// (`for_each_index`).
//
// Each thread runs its jobs with LibTorch's intra-op parallelism off (engine/runtime/
// thread_ops_parallelism.h) and
// without autograd, so N decoders use N cores and never fight the training step's thread pool.
// `threads` = 0 makes `submit` run the job on the calling thread (no background work).
//
// The destructor drops the jobs not started yet and joins the threads. A job must not own the pool
// (it would be destroyed on its own thread); whoever submits keeps what the job reads alive until
// the job has finished.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lorica {

class DecodePool {
public:
    explicit DecodePool(int threads);
    ~DecodePool();
    DecodePool(const DecodePool&) = delete;
    DecodePool& operator=(const DecodePool&) = delete;

    int threads() const { return static_cast<int>(threads_.size()); }
    // Runs `job` on a pool thread (or here when the pool has none). A job must not throw.
    void submit(std::function<void()> job);
    // Runs job(i) for every i in [0, n) on the pool's threads and on the calling thread (which takes
    // indices too), and returns when every call has returned. Indices are taken in increasing order;
    // a job must not throw (catch inside and record the failure).
    void for_each_index(int64_t n, const std::function<void(int64_t)>& job);

private:
    void loop();

    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

// The default number of decoder threads: hardware threads − 1 (one is the training thread's), at
// least 1. `configured` > 0 wins (data.workers).
int resolve_data_workers(int configured);

}  // namespace lorica
