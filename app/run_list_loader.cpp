#include "app/run_list_loader.h"

#include <QMetaObject>

#include "engine/store/run_store.h"

namespace lorica::app {

RunListLoader::RunListLoader(std::shared_ptr<RunStore> store, QObject* parent)
    : QObject(parent), gui_store_(std::move(store)), path_(gui_store_ ? gui_store_->path() : std::string()) {
    qRegisterMetaType<lorica::RunPage>("lorica::RunPage");
    thread_.setObjectName(QStringLiteral("lorica-run-list"));
    context_ = new QObject;
    context_->moveToThread(&thread_);
    connect(&thread_, &QThread::finished, context_, &QObject::deleteLater);
    thread_.start();
}

RunListLoader::~RunListLoader() {
    latest_ = ~quint64{0};  // every queued request is now stale
    thread_.quit();
    thread_.wait();
}

quint64 RunListLoader::request(const RunFilter& filter, const RunPageRequest& page) {
    const quint64 generation = ++latest_;
    QMetaObject::invokeMethod(
        context_,
        [this, generation, filter, page] {
            if (generation != latest_.load()) return;  // a newer request is queued behind this one
            RunPage result;
            QString error;
            try {
                if (!reader_) {
                    const bool in_memory = path_.empty() || path_ == ":memory:";
                    reader_ = in_memory ? gui_store_ : std::make_shared<RunStore>(RunStore::open(path_));
                }
                result = reader_->list_run_page(filter, page);
            } catch (const std::exception& e) {
                error = QString::fromUtf8(e.what());
            }
            Q_EMIT listed(generation, result, error);
        },
        Qt::QueuedConnection);
    return generation;
}

}  // namespace lorica::app
