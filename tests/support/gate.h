#pragma once
// Gate: a one-shot signal between threads of one test. One side opens it; the other waits until it
// is open (a condition variable, never a sleep loop), with a deadline so that a broken test fails
// instead of hanging. Opening an open gate does nothing.
//
// Two uses:
//   - hold a thread at a known point: a job waits on `release` until the test has done what must
//     happen while the job is running;
//   - pace a sampling loop that stops when something finishes: `while (!done.wait_for(interval))
//     sample();` samples every `interval` and returns at once when `done` opens.
//
// Share it by reference, or by std::shared_ptr where a copyable callable must hold it.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace lorica::testing {

class Gate {
public:
    Gate() = default;
    Gate(const Gate&) = delete;
    Gate& operator=(const Gate&) = delete;

    // Opens the gate and wakes every waiter.
    void open() {
        {
            std::lock_guard lock(mutex_);
            open_ = true;
        }
        opened_.notify_all();
    }
    bool is_open() const {
        std::lock_guard lock(mutex_);
        return open_;
    }
    // Blocks until the gate is open or `timeout` has passed; true when it is open.
    bool wait_for(std::chrono::milliseconds timeout) const {
        std::unique_lock lock(mutex_);
        return opened_.wait_for(lock, timeout, [this] { return open_; });
    }

    // Opens `gate` when it goes out of scope: declared after an object whose destructor waits for a
    // thread held at the gate, it releases that thread first, also when a test returns early.
    class OpenOnExit {
    public:
        explicit OpenOnExit(Gate& gate) : gate_(gate) {}
        ~OpenOnExit() { gate_.open(); }
        OpenOnExit(const OpenOnExit&) = delete;
        OpenOnExit& operator=(const OpenOnExit&) = delete;

    private:
        Gate& gate_;
    };

private:
    mutable std::mutex mutex_;
    mutable std::condition_variable opened_;
    bool open_ = false;
};

}  // namespace lorica::testing
