// Tests of the StoreListener: every event kind round-trips through the store, experiments and
// runs are grouped, writes are batched (row threshold, interval) and readers see committed data.

#include <gtest/gtest.h>

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"
#include "engine/store/store_listener.h"
#include "tests/unit/core/store_test_support.h"

namespace lorica {

using namespace store_testing;

// ---- the listener -------------------------------------------------------------------------------

TEST(StoreListenerTest, RoundTripsEveryEventKind) {
    TempDir dir;
    const std::string path = dir.file("results.db");
    Script s;
    int64_t run_id = 0, experiment_id = 0;
    {
        StoreListener listener(path);
        for (const Event& e : s.events()) listener.on_event(e);
        run_id = listener.current_run_id();
        experiment_id = listener.experiment_id();
        EXPECT_EQ(listener.run_ids(), std::vector<int64_t>{run_id});
        EXPECT_EQ(listener.buffered_rows(), 0u);
    }
    ASSERT_GT(run_id, 0);
    ASSERT_GT(experiment_id, 0);

    // Read back through a fresh connection.
    RunStore store = RunStore::open(path);
    const auto experiments = store.list_experiments();
    ASSERT_EQ(experiments.size(), 1u);
    EXPECT_EQ(experiments[0].id, experiment_id);
    EXPECT_EQ(experiments[0].name, s.experiment.name);
    EXPECT_EQ(experiments[0].config_json, s.experiment.config_json);
    EXPECT_EQ(experiments[0].config_hash, s.experiment.config_hash);
    EXPECT_TRUE(is_iso8601_utc(experiments[0].created_at)) << experiments[0].created_at;

    const auto run = store.run(run_id);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->experiment_id, experiment_id);
    EXPECT_EQ(run->run_index, s.run.run_index);
    EXPECT_EQ(run->seed, s.run.seed);
    EXPECT_EQ(run->method, s.run.method);
    EXPECT_EQ(run->config_json, s.run.config_json);
    EXPECT_EQ(run->config_hash, s.run.config_hash);
    EXPECT_EQ(run->device, s.run.device);
    EXPECT_EQ(run->torch_version, s.run.torch_version);
    EXPECT_EQ(run->lorica_version, LORICA_VERSION);
    EXPECT_EQ(run->host, RunStore::host_name());
    EXPECT_EQ(run->pid, static_cast<int64_t>(::getpid()));
    EXPECT_EQ(run->num_tasks, s.run.num_tasks);
    EXPECT_EQ(run->total_steps, s.run.total_steps);
    EXPECT_EQ(run->status, RunStatus::finished);
    EXPECT_EQ(run->message, "");
    EXPECT_EQ(run->seconds, s.finished.seconds);
    EXPECT_TRUE(is_iso8601_utc(run->started_at)) << run->started_at;
    EXPECT_TRUE(is_iso8601_utc(run->ended_at)) << run->ended_at;
    EXPECT_LE(run->started_at, run->ended_at);
    EXPECT_EQ(store.runs_of_experiment(experiment_id).size(), 1u);

    const auto tasks = store.tasks(run_id);
    ASSERT_EQ(tasks.size(), 3u);
    expect_eq(s.stream.foundation, tasks[0].info);
    expect_eq(s.stream.tasks[0], tasks[1].info);
    expect_eq(s.stream.tasks[1], tasks[2].info);
    EXPECT_EQ(tasks[1].planned_steps, s.start0.steps);
    EXPECT_EQ(tasks[1].trainable_parameters, s.start0.trainable_parameters);
    EXPECT_EQ(tasks[1].seconds, 1.5);
    EXPECT_EQ(tasks[2].trainable_parameters, s.start1.trainable_parameters);
    EXPECT_EQ(tasks[2].seconds, 2.25);
    EXPECT_EQ(tasks[0].planned_steps, 0);

    expect_all_eq(s.steps, store.step_metrics(run_id), identity);

    std::vector<EvalRow> rows = s.eval0.rows;
    rows.insert(rows.end(), s.eval1.rows.begin(), s.eval1.rows.end());
    const auto stored_rows = store.eval_rows(run_id);
    expect_all_eq(rows, stored_rows, [](const EvalRecord& r) -> const EvalRow& { return r.row; });
    for (const auto& r : stored_rows) EXPECT_EQ(r.run_id, run_id);

    std::vector<ClassEvalRow> class_rows = s.eval0.class_rows;
    class_rows.insert(class_rows.end(), s.eval1.class_rows.begin(), s.eval1.class_rows.end());
    const auto stored_class_rows = store.class_eval_rows(run_id);
    expect_all_eq(class_rows, stored_class_rows, [](const ClassEvalRecord& r) -> const ClassEvalRow& { return r.row; });
    for (const auto& r : stored_class_rows) EXPECT_EQ(r.run_id, run_id);

    expect_all_eq(s.states, store.method_state(run_id), identity);

    expect_all_eq(s.analysis.points, store.analysis_points(run_id), identity);
    const auto interpolation = store.analysis_points(run_id, AnalysisKey::merge_interpolation);
    EXPECT_EQ(interpolation.size(), 3u);
    for (const auto& p : interpolation) EXPECT_EQ(p.analysis, AnalysisKey::merge_interpolation);
    EXPECT_TRUE(store.analysis_points(run_id, AnalysisKey::rank_sweep).empty());

    const auto artifacts = store.artifacts(run_id);
    ASSERT_EQ(artifacts.size(), 1u);
    EXPECT_EQ(artifacts[0].run_id, run_id);
    EXPECT_EQ(artifacts[0].kind, s.artifact.kind);
    EXPECT_EQ(artifacts[0].path, s.artifact.path);
    EXPECT_EQ(artifacts[0].meta_json, s.artifact.meta_json);
    EXPECT_TRUE(is_iso8601_utc(artifacts[0].created_at)) << artifacts[0].created_at;

    // Nothing leaks into other runs.
    EXPECT_TRUE(store.step_metrics(run_id + 1).empty());
    EXPECT_TRUE(store.eval_rows(run_id + 1).empty());
}

TEST(StoreListenerTest, SeveralRunsOfOneExperimentAndAFailedRun) {
    TempDir dir;
    auto store = std::make_shared<RunStore>(RunStore::open(dir.file("m.db")));
    StoreListener listener(store);
    listener.on_event(ExperimentStarted{"sweep", "{}", "h", {1, 2}});
    RunStarted run{0, 1, "lora", "{}", "h", "cpu", "2.11.0", 1, 2};
    listener.on_event(run);
    const int64_t first = listener.current_run_id();
    listener.on_event(StepMetrics{0, 0, 1, 1, 1.0, 1e-3, 1.0});
    listener.on_event(RunFinished{RunStatus::finished, "", 1.0});
    run.run_index = 1;
    run.seed = 2;
    listener.on_event(run);
    const int64_t second = listener.current_run_id();
    listener.on_event(StepMetrics{0, 0, 1, 1, 2.0, 1e-3, 1.0});
    listener.on_event(RunFinished{RunStatus::failed, "out of memory", 0.5});
    listener.on_event(ExperimentFinished{RunStatus::failed});

    EXPECT_NE(first, second);
    EXPECT_EQ(listener.run_ids(), (std::vector<int64_t>{first, second}));
    EXPECT_EQ(store->runs_of_experiment(listener.experiment_id()).size(), 2u);
    EXPECT_EQ(store->step_metrics(first).at(0).loss, 1.0);
    EXPECT_EQ(store->step_metrics(second).at(0).loss, 2.0);
    EXPECT_EQ(store->run(second)->status, RunStatus::failed);
    EXPECT_EQ(store->run(second)->message, "out of memory");
    EXPECT_EQ(store->run(second)->seed, 2);
    EXPECT_EQ(store->run(second)->run_index, 1);
}

TEST(StoreListenerTest, RunWithoutExperimentGetsOneOfItsOwn) {
    TempDir dir;
    auto store = std::make_shared<RunStore>(RunStore::open(dir.file("m.db")));
    StoreListener listener(store);
    listener.on_event(StepMetrics{0, 0, 1, 1, 1.0, 1e-3, 1.0});  // outside a run: dropped with a warning
    listener.on_event(RunStarted{0, 7, "lori-d", "{\"x\":1}", "hh", "cpu", "2.11.0", 1, 2});
    listener.on_event(RunFinished{RunStatus::cancelled, "", 0.1});
    ASSERT_GT(listener.experiment_id(), 0);
    const auto e = store->experiment(listener.experiment_id());
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->name, "lori-d");
    EXPECT_EQ(store->run(listener.current_run_id())->status, RunStatus::cancelled);
    EXPECT_TRUE(store->step_metrics(listener.current_run_id()).empty());
}

TEST(StoreListenerTest, BuffersUntilTaskFinished) {
    TempDir dir;
    const std::string path = dir.file("b.db");
    StoreListenerOptions options;
    options.flush_rows = 256;
    options.flush_interval = std::chrono::hours(1);
    StoreListener listener(path, options);
    RunStore reader = RunStore::open(path);  // a second connection, like another process

    listener.on_event(ExperimentStarted{"e", "{}", "h", {1}});
    listener.on_event(RunStarted{0, 1, "lora", "{}", "h", "cpu", "2.11.0", 2, 20});
    const int64_t run_id = listener.current_run_id();
    ASSERT_TRUE(reader.run(run_id).has_value());  // lifecycle rows are written at once
    EXPECT_EQ(reader.run(run_id)->status, RunStatus::running);

    listener.on_event(TaskStarted{0, 10, 100});
    for (int i = 1; i <= 10; ++i) listener.on_event(StepMetrics{0, 0, i, i, 1.0 / i, 1e-3, 1.0});
    listener.on_event(EvaluationDone{{EvalRow{0, 0, 10, EvalPhase::in_task, HeadMode::class_il, 5, 10}}, {}});
    EXPECT_EQ(listener.buffered_rows(), 12u);
    EXPECT_TRUE(reader.step_metrics(run_id).empty());
    EXPECT_TRUE(reader.eval_rows(run_id).empty());

    listener.on_event(TaskFinished{0, 0.5});
    EXPECT_EQ(listener.buffered_rows(), 0u);
    EXPECT_EQ(reader.step_metrics(run_id).size(), 10u);
    EXPECT_EQ(reader.eval_rows(run_id).size(), 1u);
    EXPECT_EQ(reader.tasks(run_id).at(0).planned_steps, 10);

    // Explicit flush.
    listener.on_event(StepMetrics{1, 0, 11, 1, 0.5, 1e-3, 1.0});
    EXPECT_EQ(reader.step_metrics(run_id).size(), 10u);
    listener.flush();
    EXPECT_EQ(reader.step_metrics(run_id).size(), 11u);
}

TEST(StoreListenerTest, FlushesAtTheRowThresholdAndAfterTheInterval) {
    TempDir dir;
    const std::string path = dir.file("t.db");
    RunStore reader = RunStore::open(path);
    {
        StoreListenerOptions options;
        options.flush_rows = 5;
        options.flush_interval = std::chrono::hours(1);
        StoreListener listener(path, options);
        listener.on_event(RunStarted{0, 1, "lora", "{}", "h", "cpu", "2.11.0", 1, 20});
        const int64_t run_id = listener.current_run_id();
        for (int i = 1; i <= 4; ++i) listener.on_event(StepMetrics{0, 0, i, i, 1.0, 1e-3, 1.0});
        EXPECT_TRUE(reader.step_metrics(run_id).empty());
        listener.on_event(StepMetrics{0, 0, 5, 5, 1.0, 1e-3, 1.0});
        EXPECT_EQ(reader.step_metrics(run_id).size(), 5u);
        // A MethodState counts one row per value.
        listener.on_event(MethodState{0, 5, StateKey::magnitudes, {1, 2, 3, 4, 5}});
        EXPECT_EQ(reader.method_state(run_id).size(), 1u);
        listener.on_event(StepMetrics{0, 0, 6, 6, 1.0, 1e-3, 1.0});
        EXPECT_EQ(listener.buffered_rows(), 1u);
        // The listener goes away without RunFinished: rows flushed, run marked interrupted.
    }
    const auto runs = reader.list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(reader.step_metrics(runs[0].id).size(), 6u);
    EXPECT_EQ(runs[0].status, RunStatus::interrupted);
    EXPECT_FALSE(runs[0].ended_at.empty());

    StoreListenerOptions options;
    options.flush_rows = 1000;
    options.flush_interval = std::chrono::milliseconds(20);
    StoreListener listener(path, options);
    listener.on_event(RunStarted{0, 1, "lora", "{}", "h", "cpu", "2.11.0", 1, 20});
    const int64_t run_id = listener.current_run_id();
    listener.on_event(StepMetrics{0, 0, 1, 1, 1.0, 1e-3, 1.0});
    // Time itself is under test (the listener reads steady_clock): let twice the interval pass.
    // sleep_for never returns early, so this waits for no condition and cannot flake.
    std::this_thread::sleep_for(2 * options.flush_interval);
    listener.on_event(StepMetrics{0, 0, 2, 2, 1.0, 1e-3, 1.0});  // the interval has passed: both written
    EXPECT_EQ(reader.step_metrics(run_id).size(), 2u);
    EXPECT_EQ(listener.buffered_rows(), 0u);
}

TEST(StoreListenerTest, ReadersSeeCommittedDataWhileAWriterHoldsATransaction) {
    TempDir dir;
    const std::string path = dir.file("w.db");
    RunStore writer = RunStore::open(path);
    const int64_t run_id = writer.insert_run(RunRecord{});
    writer.insert_step_metrics(run_id, {StepMetrics{0, 0, 1, 1, 1.0, 1e-3, 1.0}});
    Database other(path);
    Transaction tx(other);  // another writer holds the write lock
    other.exec("INSERT INTO step_metrics VALUES(" + std::to_string(run_id) + ", 0, 0, 2, 2, 1.0, 0.001, 1.0)");
    RunStore reader = RunStore::open(path);
    EXPECT_EQ(reader.step_metrics(run_id).size(), 1u);  // the committed row only, no waiting
    tx.commit();
    EXPECT_EQ(reader.step_metrics(run_id).size(), 2u);
}

TEST(StoreListenerTest, WritingIsCheapPerEvent) {
    TempDir dir;
    StoreListener listener(dir.file("p.db"));
    listener.on_event(RunStarted{0, 1, "lora", "{}", "h", "cpu", "2.11.0", 1, 20000});
    const int64_t run_id = listener.current_run_id();
    const auto t0 = std::chrono::steady_clock::now();
    constexpr int kSteps = 20000;
    for (int i = 1; i <= kSteps; ++i) listener.on_event(StepMetrics{0, i / 1000, i, i, 1.0, 1e-3, 1.0});
    listener.flush();
    const double us_per_event =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / kSteps;
    EXPECT_EQ(listener.store()->step_metrics(run_id).size(), static_cast<std::size_t>(kSteps));
    // A training step takes milliseconds; a stored step must cost far less (typically ~1-3 us).
    EXPECT_LT(us_per_event, 200.0);
    RecordProperty("us_per_step_event", std::to_string(us_per_event));
}

}  // namespace lorica
