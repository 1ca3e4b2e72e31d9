#pragma once
// SetupWorker: the set-up panel's slow look-ups — the stream preview (loads the data set and cuts the
// stream), the backbone weights check (reads the file, builds the model) and the training estimate
// (builds the model, trains a few steps) — on a thread of their own, never on the GUI thread.
//
// Threading contract (as StoreWorker's): submit() is called on the GUI thread and returns at once;
// the job runs on the worker's thread, then `done(result, error)` runs on the GUI thread (queued),
// with the typed result. Each lane supersedes: a job still queued when a newer one of its lane
// arrives is skipped, and the result of an older generation is dropped instead of delivered, so
// typing through a field never piles up previews and an old preview never overwrites a newer one.
// Jobs run one after another on the one thread: a lane's job may keep state (the TaskPreviewer's
// loaded data set) without locking.

#include <array>
#include <atomic>
#include <functional>
#include <memory>

#include <QMetaObject>
#include <QObject>
#include <QString>
#include <QThread>

namespace lorica::app {

class SetupWorker : public QObject {
    Q_OBJECT
public:
    enum class Lane { preview, weights, estimate };
    static constexpr int kLanes = 3;

    explicit SetupWorker(QObject* parent = nullptr);
    ~SetupWorker() override;  // stops the thread after the job in progress; undelivered results are dropped

    // Runs `job()` on the worker thread, then `done(result, error)` on the GUI thread; `error` is the
    // exception's message when the job threw. Returns the request's generation in its lane.
    template <typename Result>
    quint64 submit(Lane lane, std::function<Result()> job, std::function<void(Result, const QString&)> done);

    quint64 latest(Lane lane) const { return latest_[index(lane)].load(); }
    // Jobs submitted whose `done` has not run yet (or was dropped as stale).
    int pending() const { return pending_.load(); }
    // Jobs that ran to the end (delivered or dropped), and the stale ones skipped before they started.
    int skipped() const { return skipped_.load(); }
    const QThread* thread_of_jobs() const { return &thread_; }
    // Drops every request not started yet (their results too) and blocks until the job in progress,
    // if any, has returned (`stop` is raised meanwhile for jobs that read it). Called on the GUI thread.
    void stop_and_wait();
    // Raised by stop_and_wait, lowered by the next submit: long jobs read it to end early.
    const std::atomic<bool>* stop_flag() const { return &stop_; }

Q_SIGNALS:
    // Every submitted job has been delivered or dropped.
    void idle();

private:
    static int index(Lane lane) { return static_cast<int>(lane); }
    bool stale(Lane lane, quint64 generation) const { return generation != latest_[index(lane)].load(); }
    void enqueue(Lane lane, quint64 generation, std::function<void()> work);
    void finished_one();

    QThread thread_;
    QObject* context_ = nullptr;  // lives on thread_: jobs run as its queued calls
    std::array<std::atomic<quint64>, kLanes> latest_{};
    std::atomic<int> pending_{0};
    std::atomic<int> skipped_{0};
    std::atomic<bool> running_{false};
    std::atomic<bool> stop_{false};
};

template <typename Result>
quint64 SetupWorker::submit(Lane lane, std::function<Result()> job, std::function<void(Result, const QString&)> done) {
    const quint64 generation = ++latest_[index(lane)];
    ++pending_;
    stop_ = false;
    enqueue(lane, generation, [this, lane, generation, job = std::move(job), done = std::move(done)] {
        auto result = std::make_shared<Result>();
        QString error;
        try {
            *result = job();
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
