#pragma once
// EventBridge: the engine's EventListener that hands training events over to the GUI thread.
//
// Threading contract: `on_event` runs on the training thread (event_listener.h). It appends the
// event to a mutex-guarded buffer and, only when the buffer was empty, posts ONE queued call of
// `drain_slot` on `receiver` (a QObject living on the GUI thread). So a fast producer never floods the
// event loop: however many events arrive before the GUI thread gets to them, they cost one posted
// call, and the GUI takes them all in one locked step (`take`). Posted calls to a receiver that has
// been deleted are discarded by Qt; the owner must still stop the training thread before deleting
// the bridge (EngineSession does).

#include <mutex>
#include <vector>

#include <QObject>

#include "engine/vocabulary/event_listener.h"

namespace lorica::app {

class EventBridge final : public EventListener {
public:
    // receiver->drain_slot() (a Q_SLOT or Q_INVOKABLE without arguments) is invoked queued.
    EventBridge(QObject* receiver, const char* drain_slot) : receiver_(receiver), slot_(drain_slot) {}

    void on_event(const Event& event) override;

    // Every event buffered so far, in order; empties the buffer (GUI thread).
    std::vector<Event> take();

private:
    QObject* receiver_;
    const char* slot_;
    std::mutex mutex_;
    std::vector<Event> pending_;
    bool posted_ = false;  // a drain call is queued and has not taken the buffer yet
};

}  // namespace lorica::app
