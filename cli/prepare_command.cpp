#include "cli/prepare_command.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>

#include <CLI/CLI.hpp>

#include "cli/core_commands.h"
#include "cli/exit_codes.h"
#include "engine/config/config_check.h"
#include "engine/data/decode_pool.h"
#include "engine/services/data_preparation.h"

namespace lorica::cli {
namespace {

std::atomic<bool> g_prepare_interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

void interrupt_prepare(int) { g_prepare_interrupted.store(true); }

std::string prepare_clock(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const long s = std::lround(seconds);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
    return buf;
}

// Progress lines on stderr: at most one a second, and the last image's.
class PrepareProgressLines {
public:
    void operator()(const PrepareProgress& p) {
        const auto now = std::chrono::steady_clock::now();
        if (started_ && p.done < last_done_) started_ = false;  // --verify counts again from 0
        last_done_ = p.done;
        if (!started_) {
            started_ = true;
            start_ = now;
            done_at_start_ = p.done;
            last_ = now - std::chrono::seconds(2);
        }
        if (now - last_ < std::chrono::seconds(1) && p.done != p.total) return;
        if (p.done == done_at_start_ && p.done == p.total) return;  // a complete folder: nothing done
        last_ = now;
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        const double rate = elapsed > 0 ? static_cast<double>(p.done - done_at_start_) / elapsed : 0.0;
        const double eta = rate > 0 ? static_cast<double>(p.total - p.done) / rate : NAN;
        std::fprintf(stderr, "prepare  %s  %lld/%lld images  %.0f%%  %.0f img/s  ETA %s\n", p.set.c_str(),
                     static_cast<long long>(p.done), static_cast<long long>(p.total),
                     p.total > 0 ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 100.0, rate,
                     p.done == p.total ? "0:00" : prepare_clock(eta).c_str());
    }

private:
    bool started_ = false;
    int64_t done_at_start_ = 0, last_done_ = 0;
    std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace

PrepareCommand::PrepareCommand(CLI::App& app) {
    command_ = app.add_subcommand("prepare",
                                  "decode every image of a config's streamed data once into memory-mapped 8-bit "
                                  "shards (then run with --set data.prepared=DIR)");
    auto* config_opt =
        command_->add_option("-c,--config", config_path_, "experiment config JSON file")->check(CLI::ExistingFile);
    command_->add_option("-p,--preset", preset_, "preset name (see `lorica-cli presets`)")->excludes(config_opt);
    command_->add_option("-s,--set", overrides_, "override a config field: key=value (repeatable)");
    command_->add_option("-o,--out", out_dir_, "the prepared folder (created; an interrupted one is continued)")
        ->required();
    command_->add_option("--workers", workers_, "decoder threads (default: data.workers, else cores − 1)")
        ->check(CLI::PositiveNumber);
    command_->add_flag("--verify", verify_, "read every stored image back and check its CRC-32");
}

bool PrepareCommand::selected() const { return command_->parsed(); }

int PrepareCommand::run() const {
    // Bad input (exit 2) throws from here to the data sets' loading.
    const ExperimentConfig config = preflight_config(assembled_document(config_path_, preset_, overrides_));
    const std::string dir = std::filesystem::absolute(out_dir_).lexically_normal().string();

    CancelToken cancel;
    PrepareProgressLines lines;
    int64_t done = 0, total = 0;
    PrepareOptions options;
    options.workers = workers_ > 0 ? workers_ : resolve_data_workers(config.data.workers);
    options.verify = verify_;
    options.cancel = &cancel;
    options.progress = [&](const PrepareProgress& p) {
        done = p.done;
        total = p.total;
        lines(p);
        if (g_prepare_interrupted.load()) cancel.request_cancel();
    };
    g_prepare_interrupted.store(false);
    std::signal(SIGINT, interrupt_prepare);
    std::signal(SIGTERM, interrupt_prepare);
    PrepareSummary summary;
    try {
        summary = prepare_config_data(config, dir, options);
    } catch (const Cancelled&) {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        std::fprintf(stderr,
                     "prepare cancelled after %lld of %lld images: the shards completed so far stay in %s; run the "
                     "same command again to continue\n",
                     static_cast<long long>(done), static_cast<long long>(total), dir.c_str());
        return kExitRunFailed;
    } catch (const PrepareWriteError& e) {
        std::signal(SIGINT, SIG_DFL);
        std::signal(SIGTERM, SIG_DFL);
        std::fprintf(stderr, "error: writing the prepared data failed: %s\n", e.what());
        return kExitRunFailed;
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);

    std::printf("prepared %lld images (%lld written now, %.2f GiB) in %s (%.1f s)%s\n",
                static_cast<long long>(summary.images), static_cast<long long>(summary.images_written),
                static_cast<double>(summary.bytes) / (1 << 30), dir.c_str(), summary.seconds,
                verify_ ? ", every image's CRC-32 checked" : "");
    const std::string source = !config_path_.empty() ? "--config " + config_path_
                               : !preset_.empty()    ? "--preset " + preset_
                                                     : std::string();
    std::string sets;
    for (const std::string& o : overrides_) sets += " --set " + o;
    std::printf("use it with data.prepared = %s, e.g.\n  lorica-cli run %s%s --set data.prepared=%s\n", dir.c_str(),
                source.c_str(), sets.c_str(), dir.c_str());
    return kExitSuccess;
}

}  // namespace lorica::cli
