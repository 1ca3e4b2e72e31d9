#include "app/setup_worker.h"

#include "engine/util/short_lived_thread.h"

namespace lorica::app {

SetupWorker::SetupWorker(QObject* parent) : QObject(parent) {
    thread_.setObjectName(QStringLiteral("setup-worker"));
    context_ = new QObject;
    context_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, context_, &QObject::deleteLater);
    thread_.start();
}

SetupWorker::~SetupWorker() {
    // Queued jobs see themselves stale and return at once; the one running finishes.
    stop_ = true;  // a long job that reads it (the training estimate) ends early
    for (auto& latest : latest_) latest += 1000000;
    thread_.quit();
    thread_.wait();
}

void SetupWorker::enqueue(Lane lane, quint64 generation, std::function<void()> work) {
    QMetaObject::invokeMethod(
        context_,
        [this, lane, generation, work = std::move(work)] {
            if (stale(lane, generation)) {
                ++skipped_;
                QMetaObject::invokeMethod(
                    this, [this] { finished_one(); }, Qt::QueuedConnection);
                return;
            }
            running_ = true;
            // Each job on a thread of its own that ends with it: the OpenMP team its tensor work
            // makes must not outlive it and slow a later training thread (engine/util/short_lived_thread.h).
            run_on_short_lived_thread(work);
            running_ = false;
        },
        Qt::QueuedConnection);
}

void SetupWorker::stop_and_wait() {
    stop_ = true;
    for (auto& latest : latest_) ++latest;  // everything submitted so far is stale
    while (running_.load()) QThread::msleep(5);
}

void SetupWorker::finished_one() {
    if (--pending_ == 0) Q_EMIT idle();
}

}  // namespace lorica::app
