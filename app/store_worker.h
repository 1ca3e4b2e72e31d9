#pragma once
// StoreWorker: the workbench's reads of the results database — reopening a run, comparing runs, the
// export dialog's run list — and its adapter exports, off the GUI thread.
//
// Threading contract and queue policy: NewestRequestWorker's (newest_request_worker.h). The job runs
// on the worker's own thread with its own read connection to the database (RunStore::open of the same
// file; WAL, so it never waits for the writer of a live run), and `done(result, error)` is then called
// on the GUI thread (queued). Results are typed values (ExperimentData, std::vector<RunData>, ...): the
// GUI thread never touches SQLite.
//
// Lanes: in a superseding lane (open, compare, list) the newest request wins — clicking through runs
// never piles up loads. Jobs of the export lane are never skipped for a newer one (every export the
// user asked for is written).
//
// An in-memory database (":memory:", which has no second connection) is read through the GUI's store
// object itself, on the worker thread (RunStore serialises its connection with a mutex).

#include <functional>
#include <memory>

#include "app/newest_request_worker.h"

namespace lorica {
class RunStore;
}

namespace lorica::app {

class StoreWorker : public NewestRequestWorker {
public:
    enum class Lane { open_run, compare_runs, list_runs, export_adapters };
    static constexpr int kLanes = 4;

    // `store`: the GUI's store (its path names the file the worker opens).
    explicit StoreWorker(std::shared_ptr<RunStore> store, QObject* parent = nullptr);

    // Runs `job(reader)` on the worker thread, then `done(result, error)` on the GUI thread; `error` is
    // the exception's message when the job threw (then `result` is default-constructed). Returns the
    // request's generation in its lane (increasing).
    template <typename Result>
    quint64 submit(Lane lane, std::function<Result(const RunStore&)> job,
                   std::function<void(Result, const QString&)> done) {
        return submit_job<Result>(
            static_cast<int>(lane), [reader = reader_, job = std::move(job)] { return job(reader->store()); },
            std::move(done));
    }
    // The newest generation submitted in `lane`.
    quint64 latest(Lane lane) const { return latest_generation(static_cast<int>(lane)); }

private:
    // The worker thread's connection, opened by the first job that reads (on the worker thread).
    class Reader {
    public:
        explicit Reader(std::shared_ptr<RunStore> gui_store);
        const RunStore& store();  // worker thread only

    private:
        std::shared_ptr<RunStore> gui_store_;
        std::shared_ptr<RunStore> own_;
    };
    std::shared_ptr<Reader> reader_;  // shared with the queued jobs, which outlive this class's members
};

}  // namespace lorica::app
