#pragma once
// `lorica-cli runs`: the runs of a results database, newest last, with the final class-IL accuracy of
// each finished run, read in one SQL query (RunStore::list_run_page), the newest 50 by default.
//
//   lorica-cli runs [--db PATH] [--method M] [--status S] [--since DATE] [--until DATE]
//                   [--experiment ID] [--limit N | --all] [--offset K]
//
// DATE is ISO-8601 UTC, a prefix ("2025-01-31") or a full timestamp; --until includes its whole prefix.
// --offset skips the K newest matching runs (the next page back). A footer says how many runs matched
// and how to see the rest.

#include <string>

namespace CLI {
class App;
}

namespace lorica::cli {

class RunsCommand {
public:
    // Adds the `runs` subcommand to `app`; `db_path` is the default database (bound to --db).
    RunsCommand(CLI::App& app, const std::string& db_path);

    bool selected() const;
    int run() const;                                         // exit code: 0, or 2 for a bad argument
    const std::string& db_path() const { return db_path_; }  // --db as given (or the default)

private:
    CLI::App* command_ = nullptr;
    std::string db_path_;
    std::string method_, status_, since_, until_;
    long long experiment_ = 0;
    long long limit_ = 50;
    long long offset_ = 0;
    bool all_ = false;
};

}  // namespace lorica::cli
