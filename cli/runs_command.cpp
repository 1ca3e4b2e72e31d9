#include "cli/runs_command.h"

#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "engine/store/run_store.h"

namespace lorica::cli {

namespace {
// The values --status accepts: the store's names of RunStatus (engine/vocabulary/run_status.h).
std::vector<std::string> run_status_names() {
    std::vector<std::string> names;
    for (const auto& [status, name] : kRunStatusNames) names.emplace_back(name);
    return names;
}
}  // namespace

RunsCommand::RunsCommand(CLI::App& app, const std::string& db_path) : db_path_(db_path) {
    command_ = app.add_subcommand("runs", "list the runs in a database (newest last; the newest 50 unless --all)");
    command_->add_option("--db", db_path_, "SQLite results database")->capture_default_str();
    command_->add_option("--method", method_, "only methods whose name contains this");
    command_->add_option("--status", status_, "only runs with this status")->check(CLI::IsMember(run_status_names()));
    command_->add_option("--since", since_, "only runs started at or after this ISO-8601 UTC date/time");
    command_->add_option("--until", until_, "only runs started up to this ISO-8601 UTC date/time (prefix included)");
    command_->add_option("--experiment", experiment_, "only runs of this experiment id")->check(CLI::PositiveNumber);
    auto* limit = command_->add_option("-n,--limit", limit_, "show at most this many of the newest matching runs")
                      ->check(CLI::PositiveNumber)
                      ->capture_default_str();
    command_->add_flag("--all", all_, "show every matching run")->excludes(limit);
    command_->add_option("--offset", offset_, "skip this many of the newest matching runs (the next page back)")
        ->check(CLI::NonNegativeNumber);
}

bool RunsCommand::selected() const { return command_->parsed(); }

int RunsCommand::run() const {
    RunStore store = RunStore::open(db_path_);
    RunFilter filter;
    filter.method_contains = method_;
    if (!status_.empty()) filter.status = run_status_from_string(status_);
    if (experiment_ > 0) filter.experiment_id = experiment_;
    filter.since = since_;
    filter.until = until_;
    RunPageRequest request;
    request.limit = all_ ? 0 : limit_;
    request.offset = offset_;
    const RunPage page = store.list_run_page(filter, request);

    std::string out;
    out.reserve(page.runs.size() * 120 + 256);
    char line[512];
    std::snprintf(line, sizeof line, "%6s %6s %6s %-18s %-11s %-24s %8s  %s\n", "run", "exp", "seed", "method",
                  "status", "started", "seconds", "final acc (class-IL)  variant");
    out += line;
    for (auto it = page.runs.rbegin(); it != page.runs.rend(); ++it) {  // newest last
        const RunSummary& r = *it;
        char acc[32] = "-";
        // Finished runs only, as before: a failed or running run's last row is not a final accuracy.
        if (r.final_accuracy && r.status == RunStatus::finished)
            std::snprintf(acc, sizeof acc, "%.2f%%", *r.final_accuracy);
        std::snprintf(line, sizeof line, "%6lld %6lld %6lld %-18s %-11s %-24s %8.1f  %-20s  %s\n",
                      static_cast<long long>(r.id), static_cast<long long>(r.experiment_id),
                      static_cast<long long>(r.seed), r.method.c_str(), to_string(r.status), r.started_at.c_str(),
                      r.seconds, acc, r.variant.c_str());
        out += line;
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    const auto shown = static_cast<long long>(page.runs.size());
    if (page.matching == 0) {
        std::printf("(no runs in %s%s)\n", db_path_.c_str(),
                    filter.method_contains.empty() && !filter.status && !filter.experiment_id && since_.empty() &&
                            until_.empty()
                        ? ""
                        : " match the filter");
    } else if (shown < page.matching) {
        if (offset_ == 0)
            std::printf(
                "(the newest %lld of %lld matching runs; --all shows every run, --offset %lld the page before)\n",
                shown, static_cast<long long>(page.matching), shown);
        else
            std::printf("(%lld of %lld matching runs, after skipping the %lld newest; --all shows every run)\n", shown,
                        static_cast<long long>(page.matching), offset_);
    }
    return 0;
}

}  // namespace lorica::cli
