#pragma once
// The engine's progress interface: one virtual call per event.
//
// Threading contract: `on_event` is called on the training thread, in event order, never
// concurrently for one listener. Implementations buffer and return; they never block for long and
// never call into the trainer.

#include <memory>
#include <mutex>
#include <vector>

#include "engine/vocabulary/events.h"

namespace lorica {

class EventListener {
public:
    virtual ~EventListener() = default;
    virtual void on_event(const Event& event) = 0;
};

// Forwards each event to several listeners in registration order.
class EventFanout final : public EventListener {
public:
    void add(std::shared_ptr<EventListener> listener) { listeners_.push_back(std::move(listener)); }
    void on_event(const Event& event) override {
        for (auto& l : listeners_) l->on_event(event);
    }

private:
    std::vector<std::shared_ptr<EventListener>> listeners_;
};

// Keeps a copy of every event (tests, and front ends that poll).
class EventRecorder final : public EventListener {
public:
    void on_event(const Event& event) override {
        std::lock_guard lock(mutex_);
        events_.push_back(event);
    }
    std::vector<Event> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<Event> events_;
};

}  // namespace lorica
