#include "app/prepare_worker.h"

#include <QMetaObject>

#include <algorithm>
#include <chrono>
#include <exception>

#include "engine/config/data_residence.h"
#include "engine/config/dataset_catalog.h"
#include "engine/data/data_error.h"
#include "engine/data/prepared/prepared_sources.h"
#include "engine/services/data_preparation.h"
#include "engine/vocabulary/cancel_token.h"

namespace lorica::app {

QString prepare_unavailable_reason(const ExperimentConfig& config) {
    if (config.stream.type == StreamType::datasets || config.foundation.source == FoundationSource::weights) return {};
    if (data_is_streamed(config.data, config.backbone)) return {};
    const DatasetInfo& info = dataset_info(config.data.dataset);
    return QObject::tr(
               "%1 at %2 px is held in memory: there is nothing to decode, so nothing to prepare "
               "(prepared data sets are for image folders, and CIFAR at a larger backbone)")
        .arg(QString::fromStdString(info.title))
        .arg(config.backbone.image_size);
}

qint64 prepare_resize_size(const ExperimentConfig& config) { return resolved_resize_size(config); }

PrepareWorker::PrepareWorker(QObject* parent) : QObject(parent) {}

PrepareWorker::~PrepareWorker() {
    if (cancel_) cancel_->request_cancel();
    join();
}

void PrepareWorker::join() {
    if (thread_.joinable()) thread_.join();
}

void PrepareWorker::cancel() {
    if (running_ && cancel_) cancel_->request_cancel();
}

bool PrepareWorker::start(const ExperimentConfig& config_in, const QString& dir, int workers) {
    if (running_) return false;
    join();  // the previous job's thread has posted its outcome and is ending
    ExperimentConfig config = config_in;
    config.data.prepared.clear();  // what is prepared does not depend on where a run reads it from
    if (workers <= 0) workers = config.data.workers;
    if (workers <= 0) workers = std::max(1, static_cast<int>(std::thread::hardware_concurrency()) - 1);
    cancel_ = std::make_shared<CancelToken>();
    running_ = true;
    thread_ = std::thread([this, config = std::move(config), dir, workers, cancel = cancel_, hook = hook_,
                           images_per_shard = images_per_shard_] {
        using Clock = std::chrono::steady_clock;
        const auto start = Clock::now();
        auto seconds_since = [](Clock::time_point t) {
            return std::chrono::duration<double>(Clock::now() - t).count();
        };
        PrepareOutcome outcome;
        outcome.dir = dir;
        PrepareUpdate last;
        int64_t first_done = -1;  // done at this call's first report: images kept from an earlier call
        Clock::time_point last_post{};
        bool posted = false;

        PrepareOptions options;
        options.transform = prepared_transform(config);
        options.workers = workers;
        options.cancel = cancel.get();
        if (images_per_shard > 0) options.images_per_shard = images_per_shard;
        options.progress = [&](const PrepareProgress& p) {
            if (first_done < 0) first_done = p.done;
            PrepareUpdate u;
            u.done = p.done;
            u.total = p.total;
            u.set = QString::fromStdString(p.set);
            u.seconds = seconds_since(start);
            const int64_t written = p.done - first_done;
            if (written > 0 && u.seconds > 0)
                u.eta_seconds = static_cast<double>(p.total - p.done) * u.seconds / written;
            last = u;
            if (hook) hook(u);
            const auto now = Clock::now();
            if (posted && p.done < p.total && now - last_post < std::chrono::milliseconds(kProgressIntervalMs)) return;
            posted = true;
            last_post = now;
            QMetaObject::invokeMethod(
                this, [this, u] { Q_EMIT progress(u); }, Qt::QueuedConnection);
        };
        try {
            const PrepareSummary s = prepare_config_data(config, dir.toStdString(), options);
            outcome.status = PrepareOutcome::Status::finished;
            outcome.images = s.images;
            outcome.images_written = s.images_written;
            outcome.bytes = s.bytes;
        } catch (const Cancelled&) {
            outcome.status = PrepareOutcome::Status::cancelled;
            outcome.images = last.total;
            outcome.images_written = last.done;
        } catch (const ConfigError& e) {
            outcome.message = QString::fromUtf8(e.what());
            outcome.field = QString::fromStdString(e.field());
        } catch (const std::exception& e) {  // DataError names the file; anything else as it is worded
            outcome.message = QString::fromUtf8(e.what());
        }
        outcome.seconds = seconds_since(start);
        QMetaObject::invokeMethod(
            this,
            [this, outcome] {
                running_ = false;
                Q_EMIT finished(outcome);
            },
            Qt::QueuedConnection);
    });
    return true;
}

}  // namespace lorica::app
