#pragma once
// EventBridge: the engine's EventListener that hands training events over to the GUI thread.
//
// Threading contract: `on_event` runs on the training thread (event_listener.h). It appends the
// event to a mutex-guarded buffer and, only when the buffer was empty, posts ONE queued call of the
// receiver's drain member (`receiver`: a QObject living on the GUI thread; the member is passed as a
// pointer to member, so the compiler checks it — no slot looked up by name). So a fast producer never floods the
// event loop: however many events arrive before the GUI thread gets to them, they cost one posted
// call, and the GUI takes them all in one locked step (`take`). Posted calls to a receiver that has
// been deleted are discarded by Qt; the owner must still stop the training thread before deleting
// the bridge (EngineSession does).

#include <functional>
#include <mutex>
#include <vector>

#include <QObject>

#include "engine/vocabulary/event_listener.h"

namespace lorica::app {

class EventBridge final : public EventListener {
public:
    // (receiver->*drain)() is invoked queued, on the receiver's thread.
    template <typename Receiver>
    EventBridge(Receiver* receiver, void (Receiver::*drain)())
        : receiver_(receiver), drain_([receiver, drain] { (receiver->*drain)(); }) {}

    void on_event(const Event& event) override;

    // Every event buffered so far, in order; empties the buffer (GUI thread).
    std::vector<Event> take();

private:
    QObject* receiver_;
    std::function<void()> drain_;  // called on the receiver's thread only
    std::mutex mutex_;
    std::vector<Event> pending_;
    bool posted_ = false;  // a drain call is queued and has not taken the buffer yet
};

}  // namespace lorica::app
