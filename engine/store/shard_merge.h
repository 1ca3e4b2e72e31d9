#pragma once
// Shard merge: copies the runs of other Lorica results databases ("shards") into one store.
//
// Purpose: a sweep on a cluster runs every (variant, seed) job into a database of its own (one SQLite
// file must not be shared across machines); `merge_shard` brings those shards together into one
// results database, which the CLI and the GUI then read like any other (`lorica-cli merge`, File →
// Merge shards…).
//
// Identity (uuid.h):
//   - A run is matched by its UUID. A run the target already holds in a terminal status (finished,
//     failed, cancelled) is skipped, so merging the same shard twice adds nothing. A run the target
//     holds unfinished (running, interrupted: the shard was merged while its job ran) is replaced by
//     the shard's copy (same target id; its rows rewritten; the target's non-empty notes kept).
//   - An experiment is matched by its UUID: the jobs of one sweep carry the sweep's experiment UUID
//     (StoreListenerOptions::experiment_uuid), so their runs end up in ONE experiment of the target,
//     each keeping the variant label/index, run index and seed its job wrote — grouped as if the
//     experiment had run in one process. The first shard's experiment row (name, config) is kept;
//     created_at becomes the earliest of the merged copies.
//   - Target ids are new (the target's own sequence); every row of a run (tasks, step metrics,
//     accuracy rows, per-class rows, method state, analysis points, artifacts) follows its run, in
//     the shard's order.
//
// Artifact paths: the store writes them absolute. On merge each path is first rewritten by the first
// matching `MergeOptions::artifact_prefixes` entry (whole path components: "/scratch/job7" matches
// "/scratch/job7/x", not "/scratch/job70"), then a path that is still relative is resolved against
// `artifact_base` (default: the shard file's directory). The same rewrite applies to the "run_dir"
// field of an artifact's meta JSON. Paths that do not exist on this machine after the rewrite are
// counted in MergeReport::artifacts_missing (kept, not an error: the files may live elsewhere).
//
// Atomicity: one transaction per shard. Before anything is written the shard is checked: a missing
// file, a file that is not SQLite, an SQLite file without Lorica's tables, a shard of another schema
// version (newer: written by a newer Lorica; older: open it once with this Lorica to upgrade it), a
// damaged file (PRAGMA quick_check) or the target file itself is a ShardMergeError naming the shard
// file, and the target is left unchanged. A failure while copying rolls the shard's transaction back.
//
// Threading: `merge_shard` takes the target store's lock for the whole merge (other callers of that
// RunStore wait); readers on other connections see the shard appear at once, at commit (WAL).

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace lorica {

class RunStore;

// A shard that cannot be merged. `what()` reads "shard '<file>': <reason>"; the target is unchanged.
class ShardMergeError : public std::runtime_error {
public:
    ShardMergeError(const std::string& shard, const std::string& reason);
    const std::string& shard() const noexcept { return shard_; }

private:
    std::string shard_;
};

// How `merge_shard` treats artifact paths (see the file comment).
struct MergeOptions {
    // (from, to) path prefixes, tried in order; the first that matches a path rewrites it.
    std::vector<std::pair<std::string, std::string>> artifact_prefixes;
    // Base directory for artifact paths still relative after the prefix rewrite; "" = shard's directory.
    std::string artifact_base;
};

// What one `merge_shard` call did.
struct MergeReport {
    std::string shard;            // the shard file, as given
    int experiments_added = 0;    // experiments new to the target
    int experiments_matched = 0;  // shard experiments the target already had (same UUID)
    int runs_added = 0;           // runs new to the target
    int runs_replaced = 0;        // runs the target held unfinished, replaced by the shard's copy
    int runs_skipped = 0;         // runs the target already held finished/failed/cancelled
    int64_t rows_copied = 0;      // rows of runs' tables written (tasks, steps, evaluations, ...)
    int artifacts_rewritten = 0;  // artifact paths changed by the rewrite
    int artifacts_missing = 0;    // artifact paths that do not exist here after the rewrite
    double seconds = 0.0;         // wall time of the merge, checks included
};

// Checks that `shard_path` is a Lorica results database of this build's schema version that SQLite
// reads without damage (PRAGMA quick_check). Writes nothing. Throws ShardMergeError naming the file.
void check_shard(const std::string& shard_path);

// Merges one shard into `target` in one transaction (see the file comment). Throws ShardMergeError
// (naming the shard; target unchanged) for a shard that fails `check_shard`, is the target's own file,
// or cannot be copied.
MergeReport merge_shard(RunStore& target, const std::string& shard_path, const MergeOptions& options = {});

// One line for logs and the CLI: "shards/j3.sqlite: 4 runs added, 0 replaced, 0 already present,
// 1 experiment added, 0 matched, 12345 rows, 0.02 s".
std::string describe(const MergeReport& report);

}  // namespace lorica
