#pragma once
// `lorica-cli resume RUN [--db DB] [--task T]`: continues an interrupted, cancelled or failed run from
// its last task checkpoint (or the one after task T, 1-based as printed) into the same run record
// (engine/services/run_resume.h, docs/resume.md). Progress lines as `run` prints them; at the end the
// run's report.
//
// Exit codes: 0 the run finished; 1 it failed again while training or was cancelled (Ctrl-C, SIGTERM:
// the run is marked cancelled and can be resumed again); 2 it cannot be resumed — finished, still
// running, no checkpoint, checkpoint files missing or damaged, a changed config or method state
// format, missing data — with a message naming the run and the file.

#include <string>

namespace CLI {
class App;
}

namespace lorica::cli {

class ResumeCommand {
public:
    // Adds the `resume` subcommand and its options to `app`; `db_default` is the default --db.
    ResumeCommand(CLI::App& app, const std::string& db_default);

    bool selected() const;
    // Runs it; returns the exit code.
    int run() const;

private:
    CLI::App* command_ = nullptr;
    long long run_id_ = 0;
    std::string db_path_;
    int task_ = 0;  // 1-based; 0 = the newest checkpoint
    int progress_every_ = 24;
};

}  // namespace lorica::cli
