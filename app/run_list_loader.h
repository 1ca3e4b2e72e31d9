#pragma once
// RunListLoader: reads run listings for the run browser off the GUI thread.
//
// Threading contract: request() is called on the GUI thread and returns at once; the listing runs
// on the loader's own thread with its own read connection to the database (RunStore::open of the
// same file, WAL: it never waits for the writer of a live run), and `listed` is emitted on the
// loader's thread and delivered to GUI-thread receivers queued. The newest request wins: a request
// still queued when a newer one arrives is skipped, and a result of an older generation is marked
// stale (receivers drop it), so typing a filter never piles up listings.

#include <atomic>
#include <memory>
#include <string>

#include <QObject>
#include <QString>
#include <QThread>

#include "engine/store/run_listing.h"
#include "engine/store/run_records.h"

namespace lorica {
class RunStore;
}

namespace lorica::app {

class RunListLoader : public QObject {
    Q_OBJECT
public:
    // `store`: the GUI's store; the loader opens its own connection to store->path() (an in-memory
    // database, which has no second connection, is read through `store` itself).
    explicit RunListLoader(std::shared_ptr<RunStore> store, QObject* parent = nullptr);
    ~RunListLoader() override;

    // Queues a listing; returns its generation (increasing).
    quint64 request(const RunFilter& filter, const RunPageRequest& page);
    quint64 latest_generation() const { return latest_.load(); }

Q_SIGNALS:
    // `error` is empty on success (then `page` holds the rows).
    void listed(quint64 generation, const lorica::RunPage& page, const QString& error);

private:
    std::shared_ptr<RunStore> gui_store_;
    std::string path_;
    std::shared_ptr<RunStore> reader_;  // used on the loader thread only
    QThread thread_;
    QObject* context_ = nullptr;  // lives on thread_: the requests run as its queued calls
    std::atomic<quint64> latest_{0};
};

}  // namespace lorica::app

Q_DECLARE_METATYPE(lorica::RunPage)
