#pragma once
// PrepareWorker: Experiment → Prepare data set… off the GUI thread. Runs prepare_config_data
// (engine/services/data_preparation.h: every image of the config's streamed data decoded once into
// 8-bit shards in a folder) on a thread it owns, posts typed progress to the GUI thread and the
// outcome when it ends.
//
// Threading contract: start, cancel and the destructor are called on the GUI thread; `progress` and
// `finished` are emitted there too (posted from the job's thread, so a worker destroyed meanwhile
// receives nothing). The job's thread reports every image to the engine's progress callback; the
// worker posts at most one `progress` per kProgressIntervalMs (and always the first and the last,
// done == total), so a fast decoder never floods the event loop. Cancel goes through a CancelToken,
// which the writer checks between images: the folder keeps what was written and the next start on it
// continues. The destructor cancels and joins the thread (a cancel takes effect within one image).
//
// This header is torch-free (the engine's preparation headers are included by the .cpp only).

#include <QObject>
#include <QString>

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "engine/config/experiment_config.h"

namespace lorica {
class CancelToken;
}

namespace lorica::app {

// One progress report of a preparation (the engine's PrepareProgress, with the time).
struct PrepareUpdate {
    qint64 done = 0;            // images written or kept, over every set
    qint64 total = 0;           // images of every set
    QString set;                // the set being written, e.g. "imagenet-r train (/data/imagenet-r)"
    double seconds = 0.0;       // since start
    double eta_seconds = -1.0;  // (total − done) / the rate of this call's images; < 0 = not known yet
};

// How a preparation ended.
struct PrepareOutcome {
    enum class Status { finished, cancelled, failed };
    Status status = Status::failed;
    QString dir;
    QString message;  // failed: the error as the engine words it (names the field or the file)
    QString field;    // failed with a ConfigError: the field it names ("" otherwise)
    // finished: the engine's summary; cancelled: `images` = total, `images_written` = done so far.
    qint64 images = 0;
    qint64 images_written = 0;
    qint64 bytes = 0;
    double seconds = 0.0;
};

// Why `config` has nothing to prepare, "" when it may have: its data.* data set is held in memory
// (Fashion-MNIST; CIFAR at backbone.image_size ≤ 32) and neither stream.datasets nor foundation.data
// adds a streamed one. A quick check for the GUI's action; the engine's refusal (ConfigError) stays
// the rule for every other case.
QString prepare_unavailable_reason(const ExperimentConfig& config);

// The shorter side the config's images are stored at (data.resize_size, or backbone.image_size · 8 / 7).
qint64 prepare_resize_size(const ExperimentConfig& config);

class PrepareWorker : public QObject {
    Q_OBJECT
public:
    static constexpr int kProgressIntervalMs = 100;

    explicit PrepareWorker(QObject* parent = nullptr);
    ~PrepareWorker() override;  // cancels and joins a job in progress

    // Starts preparing `config`'s data into `dir` with `workers` decoder threads (0 = data.workers, or
    // hardware threads − 1 when that is 0). False (and nothing started) when a job is in progress.
    bool start(const ExperimentConfig& config, const QString& dir, int workers = 0);
    // Asks the job to stop after the image in progress; `finished` follows with Status::cancelled.
    void cancel();
    bool running() const { return running_; }

    // Tests: called on the job's thread at every progress report of the engine, before it is posted
    // (a gate here holds the job at a known image without sleeping). Set before start.
    void set_progress_hook(std::function<void(const PrepareUpdate&)> hook) { hook_ = std::move(hook); }
    // Tests: images a shard holds in a new folder (PrepareOptions::images_per_shard; 0 = the format's).
    void set_images_per_shard(qint64 images) { images_per_shard_ = images; }

Q_SIGNALS:
    void progress(const lorica::app::PrepareUpdate& update);
    void finished(const lorica::app::PrepareOutcome& outcome);

private:
    void join();

    std::thread thread_;
    std::shared_ptr<CancelToken> cancel_;
    std::function<void(const PrepareUpdate&)> hook_;
    qint64 images_per_shard_ = 0;
    bool running_ = false;
};

}  // namespace lorica::app

Q_DECLARE_METATYPE(lorica::app::PrepareUpdate)
Q_DECLARE_METATYPE(lorica::app::PrepareOutcome)
