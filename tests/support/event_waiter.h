#pragma once
// EventWaiter: an EventListener a test thread waits on until the training thread has emitted N
// events of one kind (a condition variable the listener notifies on every event, never a sleep
// loop). The wait also ends when the run finishes first (RunFinished) or at a deadline, so that a
// run that fails or stalls fails the test instead of hanging it.
//
// Threading contract: on_event runs on the training thread (engine/vocabulary/event_listener.h),
// wait_for on the test's thread.

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <type_traits>
#include <variant>

#include "engine/vocabulary/event_listener.h"

namespace lorica::testing {

class EventWaiter final : public EventListener {
public:
    void on_event(const Event& event) override {
        {
            std::lock_guard lock(mutex_);
            ++counts_[event.index()];
            finished_ = finished_ || std::holds_alternative<RunFinished>(event);
        }
        arrived_.notify_all();
    }

    // Blocks until `at_least` events of type `E` have arrived (true), or the run finished with fewer,
    // or `timeout` passed (false).
    template <typename E>
    bool wait_for(int at_least, std::chrono::milliseconds timeout) {
        std::unique_lock lock(mutex_);
        arrived_.wait_for(lock, timeout, [&] { return count_locked<E>() >= at_least || finished_; });
        return count_locked<E>() >= at_least;
    }

    // Events of type `E` so far.
    template <typename E>
    int count() const {
        std::lock_guard lock(mutex_);
        return count_locked<E>();
    }

private:
    // The position of `E` among Event's alternatives.
    template <typename E, typename... Ts>
    static constexpr std::size_t index_in(const std::variant<Ts...>*) {
        std::size_t i = 0;
        (void)((std::is_same_v<E, Ts> || (++i, false)) || ...);  // stops at the first match
        return i;
    }
    template <typename E>
    int count_locked() const {
        constexpr std::size_t index = index_in<E>(static_cast<const Event*>(nullptr));
        static_assert(index < std::variant_size_v<Event>, "E is not an Event");
        return counts_[index];
    }

    mutable std::mutex mutex_;
    std::condition_variable arrived_;
    std::array<int, std::variant_size_v<Event>> counts_{};
    bool finished_ = false;
};

}  // namespace lorica::testing
