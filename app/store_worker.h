#pragma once
// StoreWorker: the workbench's reads of the results database — reopening a run, comparing runs, the
// export dialog's run list — and its adapter exports, off the GUI thread.
//
// Threading contract: submit() is called on the GUI thread and returns at once. The job runs on the
// worker's own thread with its own read connection to the database (RunStore::open of the same file;
// WAL, so it never waits for the writer of a live run), and `done(result, error)` is then called on
// the GUI thread (queued). Results are typed values (ExperimentData, std::vector<RunData>, ...): the
// GUI thread never touches SQLite.
//
// Lanes: each kind of request has its lane. In a superseding lane (open, compare, list) the newest
// request wins: a job still queued when a newer one of its lane arrives is skipped, and a result of an
// older generation is dropped instead of delivered — clicking through runs never piles up loads. Jobs
// of the export lane are never skipped (every export the user asked for is written).
//
// An in-memory database (":memory:", which has no second connection) is read through the GUI's store
// object itself, on the worker thread (RunStore serialises its connection with a mutex).

#include <array>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include <QMetaObject>
#include <QObject>
#include <QString>
#include <QThread>

namespace lorica {
class RunStore;
}

namespace lorica::app {

class StoreWorker : public QObject {
    Q_OBJECT
public:
    enum class Lane { open_run, compare_runs, list_runs, export_adapters };
    static constexpr int kLanes = 4;

    // `store`: the GUI's store (its path names the file the worker opens).
    explicit StoreWorker(std::shared_ptr<RunStore> store, QObject* parent = nullptr);
    ~StoreWorker() override;  // stops the thread after the job in progress; undelivered results are dropped

    // Runs `job(reader)` on the worker thread, then `done(result, error)` on the GUI thread; `error` is
    // the exception's message when the job threw (then `result` is default-constructed). Returns the
    // request's generation in its lane (increasing).
    template <typename Result>
    quint64 submit(Lane lane, std::function<Result(const RunStore&)> job,
                   std::function<void(Result, const QString&)> done);

    // The newest generation submitted in `lane`.
    quint64 latest(Lane lane) const { return latest_[index(lane)].load(); }
    // Jobs submitted whose `done` has not run yet (or was dropped as stale).
    int pending() const { return pending_.load(); }
    // The worker thread (tests check that jobs do not run on the GUI thread).
    const QThread* thread_of_jobs() const { return &thread_; }

Q_SIGNALS:
    // Every submitted job has been delivered or dropped.
    void idle();

private:
    static int index(Lane lane) { return static_cast<int>(lane); }
    static bool superseding(Lane lane) { return lane != Lane::export_adapters; }
    bool stale(Lane lane, quint64 generation) const {
        return superseding(lane) && generation != latest_[index(lane)].load();
    }
    // Queues `work` on the worker thread (skipped there when stale); `work` gets the reader.
    void enqueue(Lane lane, quint64 generation, std::function<void(const RunStore&)> work);
    // On the GUI thread: one job has been delivered or dropped.
    void finished_one();

    std::shared_ptr<RunStore> gui_store_;
    std::string path_;
    std::shared_ptr<RunStore> reader_;  // used on the worker thread only
    QThread thread_;
    QObject* context_ = nullptr;  // lives on thread_: jobs run as its queued calls
    std::array<std::atomic<quint64>, kLanes> latest_{};
    std::atomic<int> pending_{0};
};

template <typename Result>
quint64 StoreWorker::submit(Lane lane, std::function<Result(const RunStore&)> job,
                            std::function<void(Result, const QString&)> done) {
    const quint64 generation = ++latest_[index(lane)];
    ++pending_;
    enqueue(lane, generation,
            [this, lane, generation, job = std::move(job), done = std::move(done)](const RunStore& reader) {
                auto result = std::make_shared<Result>();
                QString error;
                try {
                    *result = job(reader);
                } catch (const std::exception& e) {
                    error = QString::fromUtf8(e.what());
                    if (error.isEmpty()) error = QStringLiteral("failed");
                }
                QMetaObject::invokeMethod(
                    this,
                    [this, lane, generation, result, error, done] {
                        if (!stale(lane, generation)) done(std::move(*result), error);
                        finished_one();
                    },
                    Qt::QueuedConnection);
            });
    return generation;
}

}  // namespace lorica::app
