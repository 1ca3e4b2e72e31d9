#include "app/store_worker.h"

#include "engine/store/run_store.h"

namespace lorica::app {

StoreWorker::StoreWorker(std::shared_ptr<RunStore> store, QObject* parent)
    : QObject(parent), gui_store_(std::move(store)), path_(gui_store_ ? gui_store_->path() : std::string()) {
    thread_.setObjectName(QStringLiteral("lorica-store-reader"));
    context_ = new QObject;
    context_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, context_, &QObject::deleteLater);
    thread_.start();
}

StoreWorker::~StoreWorker() {
    for (auto& latest : latest_) latest = ~quint64{0};  // every queued superseding job is now stale
    thread_.quit();
    thread_.wait();
}

void StoreWorker::enqueue(Lane lane, quint64 generation, std::function<void(const RunStore&)> work) {
    QMetaObject::invokeMethod(
        context_,
        [this, lane, generation, work = std::move(work)] {
            if (stale(lane, generation)) {  // a newer request of this lane is queued behind this one
                QMetaObject::invokeMethod(
                    this, [this] { finished_one(); }, Qt::QueuedConnection);
                return;
            }
            if (!reader_) {
                const bool in_memory = path_.empty() || path_ == ":memory:";
                try {
                    reader_ = in_memory ? gui_store_ : std::make_shared<RunStore>(RunStore::open(path_));
                } catch (...) {
                    reader_ = gui_store_;  // e.g. the file vanished: read through the GUI's connection
                }
            }
            work(*reader_);
        },
        Qt::QueuedConnection);
}

void StoreWorker::finished_one() {
    if (--pending_ == 0) Q_EMIT idle();
}

}  // namespace lorica::app
