// End to end on a Fashion-MNIST subset: the engine runs a short stream into SQLite, the accuracy
// matrix is complete and above chance; a run killed mid-way leaves a readable store, marked
// interrupted; a cancelled run stops within a step; a NaN names its step.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "engine/config/experiment_config.h"
#include "engine/eval/accuracy_matrix.h"
#include "engine/store/run_store.h"
#include "engine/store/store_listener.h"
#include "engine/services/experiment_runner.h"
#include "engine/services/training_job.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/event_waiter.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;

namespace {

// A small stream: foundation 3 classes × 400 images, 2 tasks × 2 classes × 300 images, 100 test
// images per class, rank-4 LoRA. About 60 optimizer steps in all.
nlohmann::json small_config(const fs::path& dir) {
    return {{"name", "e2e"},
            {"device", "cpu"},
            {"cache_dir", (dir / "cache").string()},
            {"data", {{"train_per_class", 300}, {"test_per_class", 100}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 400}, {"epochs", 2}, {"batch_size", 64}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"method", {{"name", "sequential-lora"}, {"rank", 4}, {"alpha", 4.0}}},
            {"train", {{"epochs", 2}, {"batch_size", 64}, {"optimizer", {{"lr", 2e-3}, {"head_lr", 5e-3}}}}}};
}

std::vector<EvalRow> plain_rows(const RunStore& store, int64_t run) {
    std::vector<EvalRow> rows;
    for (const auto& r : store.eval_rows(run)) rows.push_back(r.row);
    return rows;
}

}  // namespace

TEST(EndToEnd, ShortStreamFillsTheMatrixAboveChance) {
    TempDir dir("e2e-run");
    ExperimentConfig config = parse_experiment_config(small_config(dir.path));
    auto store = std::make_shared<RunStore>(RunStore::open((dir.path / "runs.db").string()));
    auto listener = std::make_shared<StoreListener>(store);
    CancelToken cancel;
    ASSERT_EQ(run_experiment(config, *listener, cancel), RunStatus::finished);
    listener->flush();

    auto runs = store->list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::finished);
    auto rows = plain_rows(*store, runs[0].id);
    for (HeadMode mode : {HeadMode::class_il, HeadMode::task_il}) {
        auto m = AccuracyMatrix::from_eval_rows(rows, mode, 2);
        for (int t = 0; t < 2; ++t)
            for (int j = 0; j <= t; ++j) {
                ASSERT_TRUE(m.at(t, j).has_value()) << "R[" << t << "][" << j << "] missing";
                EXPECT_EQ(m.at(t, j)->total, 200);
            }
        // After task 0 only head 0 exists: chance is 50% in both modes. After task 1, chance is 50% per
        // task (task-IL) and 25% over the 4 classes (class-IL; heads trained on their own task's logits
        // are not calibrated against each other, so class-IL sits well below task-IL).
        EXPECT_GT(m.at(0, 0)->percent, 70.0) << to_string(mode);
        if (mode == HeadMode::task_il) {
            EXPECT_GT(m.at(1, 1)->percent, 70.0);
            EXPECT_GT(m.at(1, 0)->percent, 60.0);
        } else {
            EXPECT_GT((m.at(1, 0)->percent + m.at(1, 1)->percent) / 2, 35.0);
        }
        ASSERT_TRUE(m.foundation(-1).has_value());
        EXPECT_GT(m.foundation(-1)->percent, 100.0 / 3 + 20.0) << "foundation head above chance";
        EXPECT_TRUE(m.random_init(1).has_value());
        EXPECT_TRUE(m.before_task(1).has_value());
    }
    // one step-metrics row per optimizer step: 2 tasks × 2 epochs × ceil(600 / 64) = 40
    EXPECT_EQ(store->step_metrics(runs[0].id).size(), 40u);
    // a second run reuses the cached foundation checkpoint
    bool cached = false;
    EventRecorder recorder;
    ASSERT_EQ(run_experiment(config, recorder, cancel), RunStatus::finished);
    for (const auto& e : recorder.events())
        if (auto* f = std::get_if<FoundationProgress>(&e)) cached = cached || f->from_cache;
    EXPECT_TRUE(cached);
}

TEST(EndToEnd, CancelStopsWithinAStepAndKeepsResults) {
    TempDir dir("e2e-cancel");
    nlohmann::json doc = small_config(dir.path);
    doc["foundation"]["enabled"] = false;
    doc["train"]["epochs"] = 50;
    ExperimentConfig config = parse_experiment_config(doc);
    auto store = std::make_shared<RunStore>(RunStore::open((dir.path / "runs.db").string()));
    auto listener = std::make_shared<StoreListener>(store);
    auto fanout = std::make_shared<EventFanout>();
    auto steps = std::make_shared<EventWaiter>();
    fanout->add(listener);
    fanout->add(steps);
    TrainingJob job(config, fanout);
    // wait for a few steps, then cancel
    EXPECT_TRUE(steps->wait_for<StepMetrics>(5, std::chrono::seconds(60))) << "the run reached 5 steps";
    job.cancel();
    EXPECT_EQ(job.wait(), RunStatus::cancelled);
    listener->flush();
    auto runs = store->list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::cancelled);
    EXPECT_GE(store->step_metrics(runs[0].id).size(), 5u);
}

TEST(EndToEnd, NanLossFailsNamingTheStep) {
    TempDir dir("e2e-nan");
    nlohmann::json doc = small_config(dir.path);
    doc["foundation"]["enabled"] = false;
    doc["method"]["name"] = "full-finetune";
    doc["train"]["optimizer"] = {{"name", "sgd"}, {"lr", 9.0}, {"head_lr", 9.0}, {"momentum", 0.99}};
    doc["train"]["epochs"] = 20;
    ExperimentConfig config = parse_experiment_config(doc);
    EventRecorder events;
    CancelToken cancel;
    EXPECT_EQ(run_experiment(config, events, cancel), RunStatus::failed);
    std::string message;
    for (const auto& e : events.events())
        if (auto* f = std::get_if<RunFinished>(&e)) message = f->message;
    EXPECT_NE(message.find("loss is"), std::string::npos) << message;
    EXPECT_NE(message.find("task 0"), std::string::npos) << message;
}

TEST(EndToEnd, KilledProcessLeavesAReadableStoreMarkedInterrupted) {
    TempDir dir("e2e-kill");
    nlohmann::json doc = small_config(dir.path);
    doc["foundation"]["enabled"] = false;
    doc["train"]["epochs"] = 200;  // long enough to be killed mid-run
    const fs::path config_path = dir.path / "config.json";
    std::ofstream(config_path) << doc.dump(2);
    const fs::path db = dir.path / "runs.db";

    CliProcess child = spawn_cli({"run", "--config", config_path.string(), "--db", db.string()}, dir.path / "run.log");
    // Wait until the child has stored some step metrics (flushed at least once), then kill it hard.
    const bool stored = child.wait_until(
        [&] {
            if (!fs::exists(db)) return false;
            RunStore peek = RunStore::open(db.string());
            auto runs = peek.list_runs();
            return !runs.empty() && peek.step_metrics(runs[0].id).size() >= 10;
        },
        std::chrono::minutes(2), std::chrono::milliseconds(100));
    ASSERT_TRUE(stored) << "the child never stored step metrics:\n" << read_bytes(child.log());
    child.stop(SIGKILL);

    RunStore store = RunStore::open(db.string());
    auto runs = store.list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].status, RunStatus::interrupted);
    EXPECT_GE(store.step_metrics(runs[0].id).size(), 10u);
    EXPECT_FALSE(plain_rows(store, runs[0].id).empty()) << "the evaluation rows written before the kill remain";
    EXPECT_EQ(store.tasks(runs[0].id).size(), 2u) << "2 stream tasks (no foundation step in this config)";
}
