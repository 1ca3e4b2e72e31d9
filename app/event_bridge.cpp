#include "app/event_bridge.h"

#include <QMetaObject>

namespace lorica::app {

void EventBridge::on_event(const Event& event) {
    bool post = false;
    {
        std::lock_guard lock(mutex_);
        pending_.push_back(event);
        if (!posted_) {
            posted_ = true;
            post = true;
        }
    }
    if (post) QMetaObject::invokeMethod(receiver_, drain_, Qt::QueuedConnection);
}

std::vector<Event> EventBridge::take() {
    std::lock_guard lock(mutex_);
    posted_ = false;
    std::vector<Event> out;
    out.swap(pending_);
    return out;
}

}  // namespace lorica::app
