#pragma once
// Cancel and pause requests from any thread to the training thread.
//
// The trainer calls `checkpoint()` before every optimizer step and between evaluation batches: it
// throws `Cancelled` once cancel is requested, and blocks while paused. So a cancel takes effect
// within one step; results written so far stay in the store.

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <stdexcept>

namespace lorica {

struct Cancelled : std::runtime_error {
    Cancelled() : std::runtime_error("cancelled") {}
};

class CancelToken {
public:
    void request_cancel() {
        cancelled_.store(true);
        std::lock_guard lock(mutex_);
        wake_.notify_all();
    }
    void pause() { paused_.store(true); }
    void resume() {
        paused_.store(false);
        std::lock_guard lock(mutex_);
        wake_.notify_all();
    }
    bool cancelled() const { return cancelled_.load(); }
    bool paused() const { return paused_.load(); }

    // Training thread: throws Cancelled when cancelled; waits while paused.
    void checkpoint() {
        if (paused_.load()) {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [&] { return !paused_.load() || cancelled_.load(); });
        }
        if (cancelled_.load()) throw Cancelled();
    }

private:
    std::atomic<bool> cancelled_{false}, paused_{false};
    std::mutex mutex_;
    std::condition_variable wake_;
};

}  // namespace lorica
