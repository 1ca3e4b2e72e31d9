// A sweep through the local launcher, end to end: `lorica-cli sweep` runs 2 variants × 2 seeds of a
// tiny experiment as 4 worker processes (one shard each), `sweep --status` reports them, the shards
// merge into one experiment, and that experiment holds exactly what the same experiment run in one
// process holds — every accuracy row (correct/total counts), every loss value, every rank-sweep
// point — because a job runs the same code on the same config and seed (CPU, 1 thread, fixed seeds).
// Then one job is made to look killed (shard gone, record "running" with a dead pid): --status calls
// it failed and --retry failed runs that job alone again. A SIGTERM (time limit, preemption) cancels
// a job, which still publishes its shard.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <tuple>

#include "engine/config/experiment_config.h"
#include "engine/config/sweep_jobs.h"
#include "engine/store/run_store.h"
#include "engine/store/shard_merge.h"
#include "engine/store/store_listener.h"
#include "engine/services/experiment_runner.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;

namespace {

// Foundation 3 classes × 200 images (1 epoch), 2 tasks × 2 classes × 100 images, 4 steps per task,
// a sweep over method.rank {1, 2}, seeds {0, 5}: 4 runs of a few seconds.
nlohmann::json tiny_grid(const fs::path& cache) {
    return {{"name", "tiny-grid"},
            {"seeds", {0, 5}},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", cache.string()},
            {"data", {{"train_per_class", 100}, {"test_per_class", 40}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 200}, {"epochs", 1}, {"batch_size", 64}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"method", {{"name", "sequential-lora"}, {"targets", {"qkv"}}}},
            {"train", {{"epochs", 1}, {"batch_size", 64}, {"max_steps_per_task", 4}}},
            {"sweep", {{"field", "method.rank"}, {"values", {1, 2}}, {"alpha_per_rank", 2.0}}}};
}

using EvalKey = std::tuple<int, int, int64_t, int, int, int64_t, int64_t>;
using RunKey = std::pair<std::string, int64_t>;  // (variant, seed)

// Everything a run measured that must not depend on how it was launched.
struct Measured {
    int run_index = 0;
    int variant_index = 0;
    std::vector<EvalKey> eval;
    std::vector<std::pair<int64_t, double>> losses;  // (step, loss)
    std::vector<std::tuple<std::string, std::string, double, double>> analysis;
};

std::map<RunKey, Measured> measured(const RunStore& store, int64_t experiment_id) {
    std::map<RunKey, Measured> out;
    for (const RunRecord& run : store.runs_of_experiment(experiment_id)) {
        EXPECT_EQ(run.status, RunStatus::finished) << run.variant << " seed " << run.seed << ": " << run.message;
        Measured m;
        m.run_index = run.run_index;
        m.variant_index = run.variant_index;
        for (const auto& r : store.eval_rows(run.id))
            m.eval.emplace_back(r.row.after_task, r.row.eval_task, r.row.step, static_cast<int>(r.row.phase),
                                static_cast<int>(r.row.head_mode), r.row.correct, r.row.total);
        for (const auto& s : store.step_metrics(run.id)) m.losses.emplace_back(s.step, s.loss);
        for (const auto& p : store.analysis_points(run.id))
            m.analysis.emplace_back(std::string(name_of(p.analysis)), name_of(p.series), p.x, p.y);
        EXPECT_TRUE(out.emplace(RunKey{run.variant, run.seed}, std::move(m)).second) << "duplicate " << run.variant;
    }
    return out;
}

}  // namespace

TEST(SweepLocal, ShardsMergeIntoTheSameExperimentAsOneProcess) {
    TempDir dir("sweep-local");
    const fs::path config_path = dir.path / "grid.json";
    std::ofstream(config_path) << tiny_grid(dir.path / "cache-sweep").dump(2);
    const fs::path sweep = dir.path / "sweep";

    // 1. The sweep: 4 jobs on 2 worker processes, each into its own shard.
    const fs::path log = dir.path / "cli.log";
    const CliResult launched =
        run_cli_to({"sweep", "--config", config_path.string(), "--out", sweep.string(), "--jobs", "2"}, log);
    ASSERT_EQ(launched.exit_code, 0) << launched.output;
    EXPECT_NE(launched.output.find("4 jobs: 0 pending, 0 running, 4 finished, 0 failed"), std::string::npos)
        << launched.output;
    const SweepPlan plan = read_sweep_plan((sweep / "jobs.json").string());
    ASSERT_EQ(plan.jobs.size(), 4u);
    std::vector<std::string> shards;
    for (const SweepJob& job : plan.jobs) {
        const fs::path shard = sweep / "shards" / (job.name + ".sqlite");
        ASSERT_TRUE(fs::exists(shard)) << shard;
        RunStore s = RunStore::open(shard.string());
        const auto runs = s.list_runs();
        ASSERT_EQ(runs.size(), 1u) << shard << " holds its one run";
        EXPECT_EQ(runs[0].seed, job.seed);
        EXPECT_EQ(runs[0].variant, job.variant);
        EXPECT_EQ(runs[0].run_index, job.seed_index);
        EXPECT_EQ(runs[0].status, RunStatus::finished);
        shards.push_back(shard.string());
    }
    // No SQLite file was left in the temporary directory.
    for (const auto& entry : fs::directory_iterator(fs::temp_directory_path()))
        EXPECT_EQ(entry.path().filename().string().find("lorica-" + plan.experiment_uuid), std::string::npos)
            << entry.path();

    // 2. Merged: one experiment with the 4 runs.
    const fs::path merged_path = dir.path / "merged.sqlite";
    {
        RunStore merged = RunStore::open(merged_path.string());
        for (const auto& shard : shards) merge_shard(merged, shard);
    }
    RunStore merged = RunStore::open(merged_path.string());
    const auto experiments = merged.list_experiments();
    ASSERT_EQ(experiments.size(), 1u);
    EXPECT_EQ(experiments[0].name, "tiny-grid");

    // 3. The same experiment in one process (its own cache: foundations trained afresh here too).
    const fs::path reference_path = dir.path / "one-process.sqlite";
    int64_t reference_experiment = 0;
    {
        auto store = std::make_shared<RunStore>(RunStore::open(reference_path.string()));
        auto listener = std::make_shared<StoreListener>(store);
        CancelToken cancel;
        ASSERT_EQ(run_experiment(parse_experiment_config(tiny_grid(dir.path / "cache-one")), *listener, cancel),
                  RunStatus::finished);
        listener->flush();
        reference_experiment = listener->experiment_id();
    }
    RunStore reference = RunStore::open(reference_path.string());
    const auto expected = measured(reference, reference_experiment);
    const auto got = measured(merged, experiments[0].id);
    ASSERT_EQ(expected.size(), 4u);
    ASSERT_EQ(got.size(), 4u);
    for (const auto& [key, want] : expected) {
        SCOPED_TRACE(key.first + ", seed " + std::to_string(key.second));
        ASSERT_TRUE(got.count(key));
        const Measured& have = got.at(key);
        EXPECT_EQ(have.run_index, want.run_index);
        EXPECT_EQ(have.variant_index, want.variant_index);
        EXPECT_FALSE(want.eval.empty());
        EXPECT_EQ(have.eval, want.eval);      // every accuracy count, exactly
        EXPECT_EQ(have.losses, want.losses);  // every loss, bit for bit
        EXPECT_FALSE(want.analysis.empty()) << "rank-sweep points";
        EXPECT_EQ(have.analysis, want.analysis);
    }

    // 4. A job killed hard: its shard never appeared and its record still says running.
    const SweepJob& victim = plan.jobs[2];
    fs::remove(sweep / "shards" / (victim.name + ".sqlite"));
    nlohmann::json record;
    std::ifstream(sweep / "status" / (victim.name + ".json")) >> record;
    record["state"] = "running";
    record["pid"] = 999999999;  // no such process
    std::ofstream(sweep / "status" / (victim.name + ".json")) << record.dump();
    const CliResult status = run_cli_to({"sweep", "--status", sweep.string()}, log);
    ASSERT_EQ(status.exit_code, 0) << status.output;
    EXPECT_NE(status.output.find("4 jobs: 0 pending, 0 running, 3 finished, 1 failed"), std::string::npos)
        << status.output;
    EXPECT_NE(status.output.find("process 999999999 on"), std::string::npos) << status.output;

    const CliResult retried = run_cli_to({"sweep", "--out", sweep.string(), "--retry", "failed"}, log);
    ASSERT_EQ(retried.exit_code, 0) << retried.output;
    EXPECT_NE(retried.output.find("retrying 1 failed job (2)"), std::string::npos) << retried.output;
    EXPECT_NE(retried.output.find("4 jobs: 0 pending, 0 running, 4 finished, 0 failed"), std::string::npos)
        << retried.output;
    {
        RunStore again = RunStore::open((sweep / "shards" / (victim.name + ".sqlite")).string());
        const auto runs = again.list_runs();
        ASSERT_EQ(runs.size(), 1u);
        EXPECT_EQ(runs[0].status, RunStatus::finished);
        EXPECT_EQ(measured(again, runs[0].experiment_id).at({victim.variant, victim.seed}).eval,
                  expected.at({victim.variant, victim.seed}).eval);
    }
    EXPECT_TRUE(fs::exists(sweep / "failed")) << "the killed attempt's record is kept aside";

    // 5. A new sweep into the same directory is refused; a bad index is bad input.
    EXPECT_EQ(run_cli_to({"sweep", "--config", config_path.string(), "--out", sweep.string()}, log).exit_code, 2);
    EXPECT_EQ(run_cli_to({"run", "--job", (sweep / "jobs.json").string(), "--index", "9"}, log).exit_code, 2);
}

// A time limit, preemption or scancel: Slurm sends SIGTERM. The job stops within a step, stores its
// run as cancelled, still publishes its shard, and records why; --status calls it failed.
TEST(SweepLocal, SigtermCancelsTheJobAndStillPublishesItsShard) {
    TempDir dir("sweep-sigterm");
    nlohmann::json doc = tiny_grid(dir.path / "cache");
    doc.erase("sweep");
    doc["seeds"] = {0};
    doc["foundation"]["enabled"] = false;
    doc["train"]["epochs"] = 500;  // long enough to be stopped mid-run
    doc["train"].erase("max_steps_per_task");
    const fs::path config_path = dir.path / "long.json";
    std::ofstream(config_path) << doc.dump();
    const fs::path sweep = dir.path / "sweep";
    const CliResult planned = run_cli_to(
        {"sweep", "--config", config_path.string(), "--out", sweep.string(), "--dry-run"}, dir.path / "plan.log");
    ASSERT_EQ(planned.exit_code, 0) << planned.output;

    CliProcess child =
        spawn_cli({"run", "--job", (sweep / "jobs.json").string(), "--index", "0"}, dir.path / "job.log");
    // Wait until the run has stored some steps in its node-local database, then send SIGTERM.
    const SweepPlan plan = read_sweep_plan((sweep / "jobs.json").string());
    const fs::path work = fs::temp_directory_path() / ("lorica-" + plan.experiment_uuid + "-job-0000.sqlite");
    const bool stepping = child.wait_until(
        [&] {
            if (!fs::exists(work)) return false;
            RunStore peek = RunStore::open(work.string());
            const auto runs = peek.list_runs();
            return !runs.empty() && peek.step_metrics(runs[0].id).size() >= 3;
        },
        std::chrono::minutes(1), std::chrono::milliseconds(100));
    ASSERT_TRUE(stepping) << "the job never stored a step:\n" << read_bytes(child.log());
    const CliResult stopped = child.stop(SIGTERM);
    EXPECT_EQ(stopped.exit_code, 1) << "a cancelled run is not a finished one:\n" << stopped.output;

    nlohmann::json record;
    std::ifstream(sweep / "status" / "job-0000.json") >> record;
    EXPECT_EQ(record["state"], "cancelled");
    EXPECT_NE(record["message"].get<std::string>().find("SIGTERM"), std::string::npos) << record.dump();
    RunStore shard = RunStore::open((sweep / "shards" / "job-0000.sqlite").string());
    const auto runs = shard.list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::cancelled);
    EXPECT_GE(shard.step_metrics(runs[0].id).size(), 3u) << "the steps taken before the signal are kept";
    EXPECT_FALSE(fs::exists(work)) << "the node-local database is removed once published";
    const CliResult report = run_cli_to({"sweep", "--status", sweep.string()}, dir.path / "status.log");
    EXPECT_NE(report.output.find("1 job: 0 pending, 0 running, 0 finished, 1 failed"), std::string::npos)
        << report.output;
}
