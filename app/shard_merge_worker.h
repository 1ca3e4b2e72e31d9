#pragma once
// File → Merge shards… off the GUI thread: merges shard databases (engine/store/shard_merge.h) into
// a results database on a worker thread with its own RunStore connection, then hands the outcome
// to a callback on the GUI thread.
//
// Purpose: a merge of 100 shards takes seconds; the window keeps drawing meanwhile. The GUI's own
// connection reads the target as usual (WAL): each shard's runs appear at its commit.

#include <QObject>
#include <QString>
#include <QStringList>

#include <functional>

namespace lorica::app {

struct ShardMergeOutcome {
    QStringList lines;   // one describe() line per merged shard
    QStringList errors;  // one message per shard that could not be merged (names the file)
    int runs_added = 0;
    int runs_skipped = 0;  // already present (same UUID)
    double seconds = 0.0;
    bool ok() const { return errors.isEmpty(); }
};

// Starts merging `shards` into `database` (every shard checked first; bad ones are reported and
// skipped, the others merged, one transaction each). `done` runs on the GUI thread when the merge
// ends, unless `context` has been destroyed by then.
void merge_shards_in_background(const QString& database, const QStringList& shards, QObject* context,
                                std::function<void(const ShardMergeOutcome&)> done);

}  // namespace lorica::app
