#pragma once
// NewestRequestWorker: one background thread that runs jobs in lanes where the newest request wins —
// the one mechanism behind the set-up panel's look-ups (SetupWorker) and the store reads (StoreWorker).
//
// Threading contract: submit_job() is called on the thread the worker lives on (the GUI thread) and
// returns at once. Jobs run one after another, in submission order, on the worker's own thread; then
// `done(result, error)` runs on the GUI thread (queued), with the typed result, or with the
// exception's message in `error` (and a default-constructed result) when the job threw.
//
// One queue policy, for every lane:
//   - generation: each lane counts its requests (1, 2, ...); submit_job returns the new one;
//   - superseding lane: a job whose generation is no longer its lane's newest when the worker takes it
//     off the queue is skipped (never run), and a result whose generation is no longer the newest when
//     it reaches the GUI thread is dropped (never delivered);
//   - non-superseding lane (every request matters: exports): jobs are never skipped for a newer one;
//   - stop_and_wait(): every request submitted so far, in every lane, is stale (skipped or dropped);
//     it blocks until the job in progress, if any, has returned. The decision "this job runs" and the
//     running flag are one step under the queue's mutex, and stop_and_wait waits on a condition
//     variable for that flag: once it returns, no job submitted before it runs or starts.
//   - the destructor does the same, then ends the thread.
//
// `runner` (optional) wraps every job's execution on the worker thread (SetupWorker: a short-lived
// thread per job, engine/util/short_lived_thread.h). State a job needs must be captured by the job or
// the runner, never held by a derived class: the thread ends in this class's destructor, after a
// derived class's members are gone.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <QMetaObject>
#include <QObject>
#include <QString>
#include <QThread>

namespace lorica::app {

class NewestRequestWorker : public QObject {
    Q_OBJECT
public:
    using Runner = std::function<void(const std::function<void()>& job)>;

    // superseding[i]: whether lane i's newest request wins (size = number of lanes).
    NewestRequestWorker(std::vector<bool> superseding, const QString& thread_name, Runner runner = {},
                        QObject* parent = nullptr);
    ~NewestRequestWorker() override;  // drops what is queued, waits for the job in progress, ends the thread

    // Runs `job()` on the worker thread, then `done(result, error)` on this object's thread unless the
    // request went stale meanwhile. Returns the request's generation in `lane` (increasing from 1).
    template <typename Result>
    quint64 submit_job(int lane, std::function<Result()> job, std::function<void(Result, const QString&)> done);

    // The newest generation submitted in `lane`.
    quint64 latest_generation(int lane) const;
    // Jobs submitted whose `done` has not run yet (or was dropped as stale).
    int pending() const { return pending_.load(); }
    // Jobs skipped before they started (stale when taken off the queue).
    int skipped() const { return skipped_.load(); }
    // The thread the jobs run on (before `runner`).
    const QThread* thread_of_jobs() const { return thread_.get(); }

    // Makes every request submitted so far stale and blocks until the job in progress, if any, has
    // returned (`stop_flag` is raised meanwhile for jobs that read it). No busy wait: a condition variable.
    void stop_and_wait();
    // Raised by stop_and_wait (and notified: std::atomic::wait works on it), lowered by the next
    // submit_job: long jobs read it to end early.
    const std::atomic<bool>* stop_flag() const { return &stop_; }

    // Tests only: runs on the worker thread after a job has been chosen to run (its running flag is
    // set), just before the job itself. Set it before submitting.
    void set_job_chosen_hook(std::function<void()> hook) { chosen_hook_ = std::move(hook); }

Q_SIGNALS:
    // Every submitted job has been delivered or dropped.
    void idle();

private:
    struct Request {
        int lane = 0;
        quint64 generation = 0;
        std::function<void()> work;  // runs the job and posts its delivery
    };
    // Under mutex_: whether `generation` of `lane` is no longer wanted.
    bool stale_locked(int lane, quint64 generation) const;
    bool stale(int lane, quint64 generation) const;
    // Numbers the request and queues the work `make_work(generation)` builds.
    quint64 enqueue(int lane, const std::function<std::function<void()>(quint64 generation)>& make_work);
    void loop();
    void finished_one();  // GUI thread: one job delivered or dropped
    void post_finished_one();

    const std::vector<bool> superseding_;
    Runner runner_;
    std::function<void()> chosen_hook_;

    mutable std::mutex mutex_;
    std::condition_variable wake_;     // the worker: a request or the end arrived
    std::condition_variable settled_;  // stop_and_wait: the job in progress returned
    std::deque<Request> queue_;
    std::vector<quint64> latest_;  // per lane: newest generation submitted
    std::vector<quint64> floor_;   // per lane: generations ≤ floor are stale (stop_and_wait)
    bool running_ = false;         // a job was chosen and has not returned
    bool ending_ = false;

    std::atomic<int> pending_{0};
    std::atomic<int> skipped_{0};
    std::atomic<bool> stop_{false};
    std::unique_ptr<QThread> thread_;
};

template <typename Result>
quint64 NewestRequestWorker::submit_job(int lane, std::function<Result()> job,
                                        std::function<void(Result, const QString&)> done) {
    ++pending_;
    stop_ = false;
    return enqueue(lane, [this, lane, job = std::move(job), done = std::move(done)](quint64 generation) {
        return [this, lane, generation, job, done] {
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
        };
    });
}

}  // namespace lorica::app
