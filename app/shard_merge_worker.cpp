#include "app/shard_merge_worker.h"

#include <QCoreApplication>
#include <QMetaObject>
#include <QPointer>
#include <QThread>

#include <chrono>
#include <exception>

#include "engine/store/run_store.h"
#include "engine/store/shard_merge.h"

namespace lorica::app {

namespace {

ShardMergeOutcome merge_all(const QString& database, const QStringList& shards) {
    const auto start = std::chrono::steady_clock::now();
    ShardMergeOutcome out;
    try {
        RunStore target = RunStore::open(database.toStdString());
        for (const QString& shard : shards) {
            try {
                const MergeReport r = merge_shard(target, shard.toStdString());
                out.lines << QString::fromStdString(describe(r));
                out.runs_added += r.runs_added;
                out.runs_skipped += r.runs_skipped;
            } catch (const std::exception& e) {
                out.errors << QString::fromUtf8(e.what());
            }
        }
    } catch (const std::exception& e) {
        out.errors << QString::fromUtf8(e.what());
    }
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
}

}  // namespace

void merge_shards_in_background(const QString& database, const QStringList& shards, QObject* context,
                                std::function<void(const ShardMergeOutcome&)> done) {
    QPointer<QObject> guard(context);
    QThread* thread = QThread::create([database, shards, guard, done = std::move(done)] {
        ShardMergeOutcome outcome = merge_all(database, shards);
        // Back to the GUI thread; dropped when the window has gone meanwhile.
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [guard, done, outcome] {
                if (guard) done(outcome);
            },
            Qt::QueuedConnection);
    });
    QObject::connect(thread, &QThread::finished, thread, &QObject::deleteLater);
    thread->start();
}

}  // namespace lorica::app
