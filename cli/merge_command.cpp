#include "cli/merge_command.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "engine/store/run_store.h"
#include "engine/store/shard_merge.h"

namespace lorica::cli {

namespace fs = std::filesystem;

namespace {

// The shard files named on the command line: a directory stands for its *.sqlite files, sorted.
std::vector<std::string> expand_shards(const std::vector<std::string>& args) {
    std::vector<std::string> out;
    for (const auto& arg : args) {
        std::error_code ec;
        if (!fs::is_directory(arg, ec)) {
            out.push_back(arg);
            continue;
        }
        std::vector<std::string> files;
        for (const auto& entry : fs::directory_iterator(arg, ec))
            if (entry.is_regular_file() && entry.path().extension() == ".sqlite")
                files.push_back(entry.path().string());
        std::sort(files.begin(), files.end());
        if (files.empty()) std::fprintf(stderr, "warning: no *.sqlite shard in directory '%s'\n", arg.c_str());
        out.insert(out.end(), files.begin(), files.end());
    }
    return out;
}

}  // namespace

MergeCommand::MergeCommand(CLI::App& app) {
    command_ = app.add_subcommand("merge",
                                  "merge shard databases (one per sweep job) into one results database, "
                                  "one transaction per shard; runs already present (same UUID) are skipped");
    command_->add_option("--into", into_, "target SQLite results database (created when missing)")->required();
    command_->add_option("SHARD", shards_, "shard database files, or directories of *.sqlite shards")->required();
    command_->add_option("--artifact-prefix", prefixes_,
                         "rewrite artifact paths starting with FROM to start with TO: FROM=TO (repeatable)");
    command_->add_option(
        "--artifact-base", artifact_base_,
        "directory that relative artifact paths are resolved against (default: the shard's directory)");
    command_->add_flag("--skip-bad", skip_bad_, "merge the good shards even when some cannot be merged (exit 2)");
}

bool MergeCommand::selected() const { return command_->parsed(); }

int MergeCommand::run() const {
    MergeOptions options;
    options.artifact_base = artifact_base_;
    for (const auto& p : prefixes_) {
        const auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0) {
            std::fprintf(stderr, "error: --artifact-prefix '%s': expected FROM=TO\n", p.c_str());
            return 2;
        }
        options.artifact_prefixes.emplace_back(p.substr(0, eq), p.substr(eq + 1));
    }
    const auto shards = expand_shards(shards_);
    if (shards.empty()) {
        std::fprintf(stderr, "error: no shard to merge\n");
        return 2;
    }

    std::vector<std::string> good;
    int bad = 0;
    for (const auto& shard : shards) {
        try {
            check_shard(shard);
            good.push_back(shard);
        } catch (const ShardMergeError& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            ++bad;
        }
    }
    if (bad > 0 && !skip_bad_) {
        std::fprintf(stderr,
                     "error: %d of %zu shard(s) cannot be merged; nothing merged into %s (--skip-bad merges "
                     "the others)\n",
                     bad, shards.size(), into_.c_str());
        return 2;
    }

    const auto start = std::chrono::steady_clock::now();
    RunStore target = RunStore::open(into_);
    MergeReport total;
    for (const auto& shard : good) {
        try {
            const MergeReport r = merge_shard(target, shard, options);
            std::printf("%s\n", describe(r).c_str());
            total.runs_added += r.runs_added;
            total.runs_replaced += r.runs_replaced;
            total.runs_skipped += r.runs_skipped;
            total.experiments_added += r.experiments_added;
            total.experiments_matched += r.experiments_matched;
            total.rows_copied += r.rows_copied;
            total.artifacts_rewritten += r.artifacts_rewritten;
            total.artifacts_missing += r.artifacts_missing;
        } catch (const ShardMergeError& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            ++bad;
            if (!skip_bad_) {
                std::fprintf(stderr, "error: stopped; the shards before it are merged into %s\n", into_.c_str());
                return 2;
            }
        }
    }
    total.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    total.shard = std::to_string(good.size()) + " shard(s) into " + into_;
    std::printf("%s\n", describe(total).c_str());
    return bad > 0 ? 2 : 0;
}

}  // namespace lorica::cli
