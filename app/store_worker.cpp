#include "app/store_worker.h"

#include "engine/store/run_store.h"

namespace lorica::app {

namespace {
// export_adapters is the one lane whose every request is carried out.
std::vector<bool> store_lanes() {
    std::vector<bool> superseding(StoreWorker::kLanes, true);
    superseding[static_cast<std::size_t>(StoreWorker::Lane::export_adapters)] = false;
    return superseding;
}
}  // namespace

StoreWorker::StoreWorker(std::shared_ptr<RunStore> store, QObject* parent)
    : NewestRequestWorker(store_lanes(), QStringLiteral("lorica-store-reader"), {}, parent),
      reader_(std::make_shared<Reader>(std::move(store))) {}

StoreWorker::Reader::Reader(std::shared_ptr<RunStore> gui_store) : gui_store_(std::move(gui_store)) {}

const RunStore& StoreWorker::Reader::store() {
    if (!own_) {
        const std::string path = gui_store_ ? gui_store_->path() : std::string();
        const bool in_memory = path.empty() || path == ":memory:";
        try {
            own_ = in_memory ? gui_store_ : std::make_shared<RunStore>(RunStore::open(path));
        } catch (...) {
            own_ = gui_store_;  // e.g. the file vanished: read through the GUI's connection
        }
    }
    return *own_;
}

}  // namespace lorica::app
