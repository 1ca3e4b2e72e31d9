#pragma once
// `lorica-cli merge --into DB SHARD...`: copies shard databases (one per sweep job) into one results
// database, one transaction per shard (engine/store/shard_merge.h).
//
//   lorica-cli merge --into results.sqlite sweep/shards/          every *.sqlite in the directory
//   lorica-cli merge --into results.sqlite a.sqlite b.sqlite --artifact-prefix /scratch/job=/shared/job
//
// Every shard is checked before the first is merged: a missing, non-Lorica, damaged or newer-schema
// shard is reported by name and nothing is merged (exit 2), unless --skip-bad merges the good ones
// (exit 2 still, after the merge, when one was skipped). Output: one line per shard (runs added,
// replaced, already present; experiments added/matched; rows; seconds), then a total.

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace lorica::cli {

class MergeCommand {
public:
    // Adds the `merge` subcommand and its options to `app`.
    explicit MergeCommand(CLI::App& app);

    // True when the command line selected `merge`.
    bool selected() const;
    // Runs it; returns the exit code (0 merged, 2 bad input: a shard or argument).
    int run() const;

private:
    CLI::App* command_ = nullptr;
    std::string into_;
    std::vector<std::string> shards_;
    std::vector<std::string> prefixes_;  // FROM=TO
    std::string artifact_base_;
    bool skip_bad_ = false;
};

}  // namespace lorica::cli
