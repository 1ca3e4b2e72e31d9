// The results database under pressure, with real lorica-cli processes:
//   - disk full: a run whose writes start failing (RLIMIT_FSIZE with SIGXFSZ ignored, so writes fail
//     with EFBIG; and, where this process may mount, a 512 KiB tmpfs that fills up: ENOSPC) fails with
//     exit 1 and a message naming the database and the step, and every row a reader saw stored
//     before the failure is still there afterwards (the database passes integrity_check);
//   - locks: two runs writing one database at once, while this process reads it (a read-only
//     connection and RunStore listings) and starts `lorica-cli runs` readers, never see
//     "database is locked": both runs finish, every reader call succeeds.
#include <gtest/gtest.h>

#include <sys/mount.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <regex>
#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/gate.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// A run long enough to write a few hundred KB of rows: no foundation, 2 tasks of 40 images per class.
json long_run_config(const fs::path& data, const fs::path& cache, int epochs) {
    json doc = tiny_run_config(data, cache);
    doc["foundation"]["enabled"] = false;
    doc["data"]["train_per_class"] = 40;
    doc["data"]["test_per_class"] = 10;
    doc["train"]["epochs"] = epochs;
    doc["train"]["batch_size"] = 4;
    return doc;
}

int64_t count(Database& db, const std::string& table) { return db.query_int64("SELECT count(*) FROM " + table); }

struct Seen {
    int64_t steps = 0, evals = 0;
};

// Reads the database read-only every 40 ms until `run_ended` opens, remembering the most rows seen.
// (Sampling another process's file: the interval is the sampling rate, not a wait for a condition.)
Seen poll_rows(const fs::path& db, const Gate& run_ended, std::vector<std::string>& errors) {
    Seen seen;
    while (!run_ended.wait_for(std::chrono::milliseconds(40))) {
        if (!fs::exists(db)) continue;
        try {
            Database d(db.string(), OpenMode::read_only);
            // A database the child is still creating has no tables yet.
            if (d.query_int64("SELECT count(*) FROM sqlite_master WHERE name = 'eval_rows'") == 0) continue;
            seen.steps = std::max(seen.steps, count(d, "step_metrics"));
            seen.evals = std::max(seen.evals, count(d, "eval_rows"));
        } catch (const std::exception& e) {
            errors.push_back(e.what());
        }
    }
    return seen;
}

// Runs lorica-cli on `config` into `db` under `limits` while polling; checks the failure and the rows.
void expect_disk_full_failure(const fs::path& dir, const fs::path& db, const json& config, const CliLimits& limits) {
    write_text(dir / "config.json", config.dump());
    Gate run_ended;
    std::vector<std::string> poll_errors;
    Seen seen;
    std::thread poller([&] { seen = poll_rows(db, run_ended, poll_errors); });
    const CliResult r = run_cli_to(
        {"run", "--config", (dir / "config.json").string(), "--db", db.string(), "--progress-every", "100000"},
        dir / "out.txt", limits);
    run_ended.open();
    poller.join();

    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(r.signal, 0) << r.output;
    EXPECT_NE(r.output.find(db.string()), std::string::npos) << "the message names the database: " << r.output;
    EXPECT_TRUE(std::regex_search(r.output, std::regex("task [0-9]+, step [0-9]+")))
        << "the message names the step: " << r.output;
    EXPECT_NE(r.output.find("run failed"), std::string::npos) << r.output;
    EXPECT_EQ(r.output.find("locked"), std::string::npos) << r.output;
    for (const auto& e : poll_errors) ADD_FAILURE() << "reader: " << e;

    // Afterwards: the database is whole and holds every row seen before. Read in place, read-only (a
    // full file system stays full); the store's own open (which may write) works on a copy.
    Database d(db.string(), OpenMode::read_only);
    Statement check(d, "PRAGMA integrity_check");
    ASSERT_TRUE(check.step());
    EXPECT_EQ(check.column_text(0), "ok");
    EXPECT_GT(seen.steps, 0) << "the run stored rows before the disk filled: " << r.output;
    EXPECT_GE(count(d, "step_metrics"), seen.steps);
    EXPECT_GE(count(d, "eval_rows"), seen.evals);
    const fs::path copy = dir / "copy.db";
    fs::copy_file(db, copy, fs::copy_options::overwrite_existing);
    if (fs::exists(db.string() + "-wal"))
        fs::copy_file(db.string() + "-wal", copy.string() + "-wal", fs::copy_options::overwrite_existing);
    RunStore store = RunStore::open(copy.string());
    const auto runs = store.list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_NE(runs[0].status, RunStatus::finished);
    EXPECT_EQ(static_cast<int64_t>(store.step_metrics(runs[0].id).size()), count(d, "step_metrics"));
}

}  // namespace

TEST(StoreUnderPressure, FileSizeLimitFailsTheRunNamingTheDatabaseAndKeepsStoredRows) {
    TempDir dir("pressure-fsize");
    write_tiny_fashion_mnist(dir.path / "fm", 10, 60, 12);
    const fs::path db = dir.path / "runs.db";
    RunStore::open(db.string());  // schema written without the limit; closed (WAL checkpointed)
    const auto limit = static_cast<rlim_t>(fs::file_size(db) + 96 * 1024);
    expect_disk_full_failure(dir.path, db, long_run_config(dir.path / "fm", dir.path / "cache", 400),
                             {limit, {{"XDG_DATA_HOME", (dir.path / "xdg").string()}}});
}

TEST(StoreUnderPressure, FullFileSystemFailsTheRunNamingTheDatabaseAndKeepsStoredRows) {
    TempDir dir("pressure-tmpfs");
    write_tiny_fashion_mnist(dir.path / "fm", 10, 60, 12);
    const fs::path small = dir.path / "small";
    fs::create_directories(small);
    if (::mount("tmpfs", small.c_str(), "tmpfs", 0, "size=512k") != 0)
        GTEST_SKIP() << "cannot mount a tmpfs here (needs root): " << std::strerror(errno);
    struct Unmount {
        fs::path at;
        ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
    } unmount{small};
    // Database and run checkpoints on the 512 KiB file system; data and log elsewhere.
    expect_disk_full_failure(dir.path, small / "runs.db", long_run_config(dir.path / "fm", small / "cache", 2000),
                             {std::nullopt, {{"XDG_DATA_HOME", (dir.path / "xdg").string()}}});
    const std::string out = read_bytes(dir.path / "out.txt");
    EXPECT_NE(out.find("full"), std::string::npos) << "ENOSPC reads as a full disk: " << out;
}

TEST(StoreUnderPressure, TwoWritersAndReadersNeverSeeALockedDatabase) {
    TempDir dir("pressure-locks");
    write_tiny_fashion_mnist(dir.path / "fm", 10, 60, 12);
    const fs::path db = dir.path / "shared.db";  // created by whichever run comes first
    write_text(dir.path / "config.json", long_run_config(dir.path / "fm", dir.path / "cache", 20).dump());
    const CliLimits env{std::nullopt, {{"XDG_DATA_HOME", (dir.path / "xdg").string()}}};
    const std::vector<std::string> args = {
        "run", "--config", (dir.path / "config.json").string(), "--db", db.string(), "--progress-every", "100000"};

    Gate runs_ended;
    std::mutex errors_mutex;
    std::vector<std::string> errors;
    auto error = [&](const std::string& e) {
        std::lock_guard lock(errors_mutex);
        errors.push_back(e);
    };
    std::atomic<int> listings{0}, cli_listings{0};
    // The readers sample while the runs write (every 20 ms; `lorica-cli runs` back to back) and stop
    // when both runs have ended. Waiting for the database file, which another process creates, is
    // polling: there is no condition variable across processes.
    std::thread reader([&] {
        while (!runs_ended.wait_for(std::chrono::milliseconds(20))) {
            if (!fs::exists(db)) continue;
            try {
                RunStore store = RunStore::open(db.string());
                for (const auto& run : store.list_runs()) (void)store.step_metrics(run.id);
                ++listings;
            } catch (const std::exception& e) {
                error(std::string("RunStore reader: ") + e.what());
            }
        }
    });
    std::thread cli_reader([&] {
        while (!runs_ended.is_open()) {
            if (!fs::exists(db)) {
                runs_ended.wait_for(std::chrono::milliseconds(50));
                continue;
            }
            const CliResult r = run_cli_to({"runs", "--db", db.string()}, dir.path / "runs.txt", env);
            if (r.exit_code != 0) error("lorica-cli runs: " + r.output);
            ++cli_listings;
        }
    });
    std::vector<std::string> args_b = args;  // another seed: its own checkpoint directory
    args_b.insert(args_b.end(), {"--set", "seeds=[1]"});
    CliResult a, b;
    std::thread first([&] { a = run_cli_to(args, dir.path / "a.txt", env); });
    std::thread second([&] { b = run_cli_to(args_b, dir.path / "b.txt", env); });
    first.join();
    second.join();
    runs_ended.open();
    reader.join();
    cli_reader.join();

    EXPECT_EQ(a.exit_code, 0) << a.output;
    EXPECT_EQ(b.exit_code, 0) << b.output;
    EXPECT_EQ(a.output.find("locked"), std::string::npos) << a.output;
    EXPECT_EQ(b.output.find("locked"), std::string::npos) << b.output;
    for (const auto& e : errors) ADD_FAILURE() << e;
    std::printf("two writers: %d RunStore listings, %d `lorica-cli runs` while they ran\n", listings.load(),
                cli_listings.load());
    EXPECT_GT(listings.load(), 5);
    EXPECT_GT(cli_listings.load(), 0);
    RunStore store = RunStore::open(db.string());
    const auto runs = store.list_runs();
    ASSERT_EQ(runs.size(), 2u);
    for (const auto& r : runs) {
        EXPECT_EQ(r.status, RunStatus::finished);
        EXPECT_GT(store.step_metrics(r.id).size(), 100u);
    }
    EXPECT_EQ(store.step_metrics(runs[0].id).size(), store.step_metrics(runs[1].id).size())
        << "two identical runs store the same number of steps";
}
