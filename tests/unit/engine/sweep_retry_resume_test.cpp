// `sweep --retry failed` resumes a stopped job's run: a sweep job stopped by SIGTERM (a time limit,
// preemption) after its first task checkpoint publishes its shard with the run cancelled; the retry
// copies that shard back, continues the run from its checkpoint (engine/services/run_resume.h) and
// publishes it finished — with exactly the accuracy rows and losses of the same job run uninterrupted.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <tuple>

#include "engine/config/sweep_jobs.h"
#include "engine/store/run_resume.h"
#include "engine/store/run_store.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;

namespace {

nlohmann::json job_config(const fs::path& cache) {
    return {{"name", "retry-resume"},
            {"seeds", {3}},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", cache.string()},
            {"data", {{"train_per_class", 100}, {"test_per_class", 40}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 100}, {"epochs", 1}, {"batch_size", 64}}},
            {"stream", {{"tasks", 3}, {"classes_per_task", 2}, {"domains", {"identity"}}}},
            {"backbone", {{"dim", 16}, {"depth", 1}, {"heads", 2}}},
            {"method", {{"name", "sd-lora"}, {"rank", 2}, {"alpha", 2.0}}},
            {"train",
             {{"epochs", 80},
              {"batch_size", 64}}}};  // long enough that the poll below sees it past a checkpoint on a fast machine
}

using Rows = std::pair<std::vector<std::tuple<int, int, int64_t, std::string, std::string, int64_t, int64_t>>,
                       std::vector<std::pair<int64_t, double>>>;

Rows rows_of_shard(const fs::path& shard, RunRecord* record = nullptr) {
    RunStore store = RunStore::open(shard.string());
    const auto runs = store.list_runs();
    EXPECT_EQ(runs.size(), 1u);
    Rows r;
    if (runs.empty()) return r;
    if (record) *record = runs[0];
    for (const auto& e : store.eval_rows(runs[0].id))
        r.first.emplace_back(e.row.after_task, e.row.eval_task, e.row.step, to_string(e.row.phase),
                             to_string(e.row.head_mode), e.row.correct, e.row.total);
    for (const auto& s : store.step_metrics(runs[0].id)) r.second.emplace_back(s.step, s.loss);
    return r;
}

}  // namespace

TEST(SweepRetry, ResumesTheStoppedJobFromItsCheckpoint) {
    TempDir dir("sweep-retry-resume");
    const fs::path config = dir.path / "job.json";
    std::ofstream(config) << job_config(dir.path / "cache").dump();
    const fs::path reference = dir.path / "reference", sweep = dir.path / "sweep";
    const fs::path cli_log = dir.path / "cli.log";
    const CliResult planned_reference =
        run_cli_to({"sweep", "--config", config.string(), "--out", reference.string()}, cli_log);
    ASSERT_EQ(planned_reference.exit_code, 0) << planned_reference.output;
    const CliResult planned =
        run_cli_to({"sweep", "--config", config.string(), "--out", sweep.string(), "--dry-run"}, cli_log);
    ASSERT_EQ(planned.exit_code, 0) << planned.output;

    CliProcess child =
        spawn_cli({"run", "--job", (sweep / "jobs.json").string(), "--index", "0"}, dir.path / "job.log");
    // SIGTERM once the node-local database holds a checkpoint and steps past it.
    const SweepPlan plan = read_sweep_plan((sweep / "jobs.json").string());
    const fs::path work = fs::temp_directory_path() / ("lorica-" + plan.experiment_uuid + "-job-0000.sqlite");
    const bool past_checkpoint = child.wait_until(
        [&] {
            if (!fs::exists(work)) return false;
            RunStore peek = RunStore::open(work.string());
            const auto runs = peek.list_runs();
            if (runs.empty()) return false;
            const auto checkpoints = run_checkpoints(peek, runs[0].id);
            if (checkpoints.empty()) return false;
            for (const auto& s : peek.step_metrics(runs[0].id))
                if (s.task > checkpoints.back().task) return true;
            return false;
        },
        std::chrono::minutes(1), std::chrono::milliseconds(20));
    ASSERT_TRUE(past_checkpoint) << "the job never got past its first checkpoint:\n" << read_bytes(child.log());
    const CliResult stopped_job = child.stop(SIGTERM);
    ASSERT_EQ(stopped_job.exit_code, 1) << stopped_job.output;
    RunRecord stopped;
    rows_of_shard(sweep / "shards" / "job-0000.sqlite", &stopped);
    ASSERT_EQ(stopped.status, RunStatus::cancelled);

    const CliResult retried = run_cli_to({"sweep", "--out", sweep.string(), "--retry", "failed"}, cli_log);
    ASSERT_EQ(retried.exit_code, 0) << retried.output;
    std::ifstream log_file(sweep / "logs" / "job-0000.log");
    const std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
    EXPECT_NE(log.find("resuming the previous attempt's run"), std::string::npos) << retried.output << log;
    RunRecord resumed;
    const Rows got = rows_of_shard(sweep / "shards" / "job-0000.sqlite", &resumed);
    EXPECT_EQ(resumed.status, RunStatus::finished) << resumed.message;
    EXPECT_NE(resumed.message.find("resumed after task"), std::string::npos) << resumed.message;
    EXPECT_EQ(resumed.uuid, stopped.uuid) << "the same run continued";
    const Rows want = rows_of_shard(reference / "shards" / "job-0000.sqlite");
    EXPECT_EQ(got.first, want.first);
    EXPECT_EQ(got.second, want.second);
}
