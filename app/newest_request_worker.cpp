#include "app/newest_request_worker.h"

namespace lorica::app {

NewestRequestWorker::NewestRequestWorker(std::vector<bool> superseding, const QString& thread_name, Runner runner,
                                         QObject* parent)
    : QObject(parent),
      superseding_(std::move(superseding)),
      runner_(std::move(runner)),
      latest_(superseding_.size(), 0),
      floor_(superseding_.size(), 0) {
    thread_.reset(QThread::create([this] { loop(); }));
    thread_->setObjectName(thread_name);
    thread_->start();
}

NewestRequestWorker::~NewestRequestWorker() {
    {
        std::lock_guard lock(mutex_);
        ending_ = true;
        floor_ = latest_;  // what is queued is skipped; what is in flight is not delivered
    }
    stop_ = true;  // a long job that reads it (the training estimate) ends early
    stop_.notify_all();
    wake_.notify_all();
    thread_->wait();
}

quint64 NewestRequestWorker::latest_generation(int lane) const {
    std::lock_guard lock(mutex_);
    return latest_[static_cast<std::size_t>(lane)];
}

bool NewestRequestWorker::stale_locked(int lane, quint64 generation) const {
    const auto i = static_cast<std::size_t>(lane);
    return generation <= floor_[i] || (superseding_[i] && generation != latest_[i]);
}

bool NewestRequestWorker::stale(int lane, quint64 generation) const {
    std::lock_guard lock(mutex_);
    return stale_locked(lane, generation);
}

quint64 NewestRequestWorker::enqueue(int lane, const std::function<std::function<void()>(quint64)>& make_work) {
    quint64 generation = 0;
    {
        std::lock_guard lock(mutex_);
        generation = ++latest_[static_cast<std::size_t>(lane)];
        queue_.push_back(Request{lane, generation, make_work(generation)});
    }
    wake_.notify_one();
    return generation;
}

void NewestRequestWorker::loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        wake_.wait(lock, [this] { return ending_ || !queue_.empty(); });
        if (queue_.empty()) return;  // ending, nothing left
        Request request = std::move(queue_.front());
        queue_.pop_front();
        // The stale check and the running flag are one step under the mutex: stop_and_wait either
        // makes this request stale before it is chosen, or finds it running and waits for it.
        if (stale_locked(request.lane, request.generation)) {
            ++skipped_;
            post_finished_one();
            continue;
        }
        running_ = true;
        lock.unlock();
        if (chosen_hook_) chosen_hook_();
        if (runner_)
            runner_(request.work);
        else
            request.work();
        request.work = nullptr;  // the job's captures go on this thread, outside the lock
        lock.lock();
        running_ = false;
        settled_.notify_all();
    }
}

void NewestRequestWorker::stop_and_wait() {
    std::unique_lock lock(mutex_);
    floor_ = latest_;  // everything submitted so far is stale
    stop_ = true;
    stop_.notify_all();
    settled_.wait(lock, [this] { return !running_; });
}

void NewestRequestWorker::post_finished_one() {
    QMetaObject::invokeMethod(
        this, [this] { finished_one(); }, Qt::QueuedConnection);
}

void NewestRequestWorker::finished_one() {
    if (--pending_ == 0) Q_EMIT idle();
}

}  // namespace lorica::app
