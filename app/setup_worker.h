#pragma once
// SetupWorker: the set-up panel's slow look-ups — the stream preview (loads the data set and cuts the
// stream), the backbone weights check (reads the file, builds the model) and the training estimate
// (builds the model, trains a few steps) — on a thread of their own, never on the GUI thread.
//
// Threading contract and queue policy: NewestRequestWorker's (newest_request_worker.h). Every lane
// supersedes: typing through a field never piles up previews and an old preview never overwrites a
// newer one. Jobs run one after another on the one thread: a lane's job may keep state (the
// TaskPreviewer's loaded data set) without locking. Each job runs on a thread of its own that ends
// with it: the OpenMP team its tensor work makes must not outlive it and slow a later training thread
// (engine/util/short_lived_thread.h).

#include <functional>

#include "app/newest_request_worker.h"

namespace lorica::app {

class SetupWorker : public NewestRequestWorker {
public:
    enum class Lane { preview, weights, estimate };
    static constexpr int kLanes = 3;

    explicit SetupWorker(QObject* parent = nullptr);

    // Runs `job()` on the worker thread, then `done(result, error)` on the GUI thread; `error` is the
    // exception's message when the job threw. Returns the request's generation in its lane.
    template <typename Result>
    quint64 submit(Lane lane, std::function<Result()> job, std::function<void(Result, const QString&)> done) {
        return submit_job<Result>(static_cast<int>(lane), std::move(job), std::move(done));
    }
    quint64 latest(Lane lane) const { return latest_generation(static_cast<int>(lane)); }
};

}  // namespace lorica::app
