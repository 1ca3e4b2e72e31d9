// Tests of merging shard databases into one store (engine/store/shard_merge.h): every row of a run
// arrives, merging twice adds nothing, the jobs of one sweep become one experiment grouped like a
// single-process run, artifact paths are rewritten, and bad shards (newer schema, older schema,
// damaged, not Lorica, missing, the target itself, failing mid-copy) leave the target unchanged.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "engine/store/shard_merge.h"
#include "engine/store/sqlite_db.h"
#include "engine/store/store_listener.h"
#include "engine/store/sweep_summary.h"
#include "engine/store/uuid.h"
#include "tests/support/old_schema_database.h"
#include "tests/unit/core/store_test_support.h"

namespace lorica {

using namespace store_testing;

namespace {

// Writes the complete Script run into `path` (one experiment, one run); returns the run's id there.
int64_t write_script(const std::string& path, const Script& s = {}) {
    StoreListener listener(path);
    for (const Event& e : s.events()) listener.on_event(e);
    return listener.current_run_id();
}

// Row count of every table, and every run's (uuid, status): the target's logical content.
std::map<std::string, int64_t> content_of(const std::string& path) {
    Database db(path, OpenMode::read_only);
    std::map<std::string, int64_t> out;
    for (const char* table : {"experiments", "runs", "tasks", "step_metrics", "eval_rows", "class_eval_rows",
                              "method_state", "analysis_points", "artifacts"})
        out[table] = db.query_int64(std::string("SELECT count(*) FROM ") + table);
    Statement st(db, "SELECT uuid, status, id FROM runs ORDER BY id");
    int i = 0;
    while (st.step())
        out["run " + std::to_string(i++) + " " + st.column_text(0) + " " + st.column_text(1)] = st.column_int64(2);
    return out;
}

// Every reader of run `a` in store `sa` returns the same as of run `b` in `sb` (ids aside).
void expect_same_run(const RunStore& sa, int64_t a, const RunStore& sb, int64_t b) {
    const auto ra = sa.run(a), rb = sb.run(b);
    ASSERT_TRUE(ra && rb);
    EXPECT_EQ(ra->uuid, rb->uuid);
    EXPECT_EQ(ra->run_index, rb->run_index);
    EXPECT_EQ(ra->seed, rb->seed);
    EXPECT_EQ(ra->method, rb->method);
    EXPECT_EQ(ra->config_json, rb->config_json);
    EXPECT_EQ(ra->config_hash, rb->config_hash);
    EXPECT_EQ(ra->lorica_version, rb->lorica_version);
    EXPECT_EQ(ra->torch_version, rb->torch_version);
    EXPECT_EQ(ra->device, rb->device);
    EXPECT_EQ(ra->host, rb->host);
    EXPECT_EQ(ra->pid, rb->pid);
    EXPECT_EQ(ra->started_at, rb->started_at);
    EXPECT_EQ(ra->ended_at, rb->ended_at);
    EXPECT_EQ(ra->status, rb->status);
    EXPECT_EQ(ra->message, rb->message);
    EXPECT_EQ(ra->num_tasks, rb->num_tasks);
    EXPECT_EQ(ra->total_steps, rb->total_steps);
    EXPECT_EQ(ra->notes, rb->notes);
    EXPECT_EQ(ra->seconds, rb->seconds);
    EXPECT_EQ(ra->variant, rb->variant);
    EXPECT_EQ(ra->variant_index, rb->variant_index);
    EXPECT_EQ(ra->sweep_field, rb->sweep_field);
    EXPECT_EQ(ra->sweep_value, rb->sweep_value);

    const auto ta = sa.tasks(a), tb = sb.tasks(b);
    ASSERT_EQ(ta.size(), tb.size());
    for (std::size_t i = 0; i < ta.size(); ++i) {
        expect_eq(ta[i].info, tb[i].info);
        EXPECT_EQ(ta[i].planned_steps, tb[i].planned_steps);
        EXPECT_EQ(ta[i].trainable_parameters, tb[i].trainable_parameters);
        EXPECT_EQ(ta[i].seconds, tb[i].seconds);
    }
    expect_all_eq(sa.step_metrics(a), sb.step_metrics(b), identity);
    const auto ea = sa.eval_rows(a), eb = sb.eval_rows(b);
    ASSERT_EQ(ea.size(), eb.size());
    for (std::size_t i = 0; i < ea.size(); ++i) expect_eq(ea[i].row, eb[i].row);
    const auto ca = sa.class_eval_rows(a), cb = sb.class_eval_rows(b);
    ASSERT_EQ(ca.size(), cb.size());
    for (std::size_t i = 0; i < ca.size(); ++i) {
        expect_eq(ca[i].row, cb[i].row);
        EXPECT_EQ(ca[i].row.newly_wrong, cb[i].row.newly_wrong);
    }
    expect_all_eq(sa.method_state(a), sb.method_state(b), identity);
    expect_all_eq(sa.analysis_points(a), sb.analysis_points(b), identity);
    const auto aa = sa.artifacts(a), ab = sb.artifacts(b);
    ASSERT_EQ(aa.size(), ab.size());
    for (std::size_t i = 0; i < aa.size(); ++i) {
        EXPECT_EQ(aa[i].kind, ab[i].kind);
        EXPECT_EQ(aa[i].path, ab[i].path);
        EXPECT_EQ(aa[i].meta_json, ab[i].meta_json);
        EXPECT_EQ(aa[i].created_at, ab[i].created_at);
    }
}

// A shard holding one run of a sweep: the job for (variant, seed) of the sweep `experiment_uuid`.
struct SweepJob {
    int variant_index = 0;
    std::string variant;
    int run_index = 0;
    int64_t seed = 0;
    int correct = 0;  // class-IL correct answers (of 100) on each task after the last task
};

std::vector<Event> job_events(const SweepJob& job) {
    ExperimentStarted experiment{
        "rank sweep", R"({"method":"lora","sweep":{"method.rank":[4,8]}})", "h0", {1, 2}, {"rank=4", "rank=8"}};
    RunStarted run{
        job.run_index, job.seed, "lora", R"({"method":"lora"})", "h" + std::to_string(job.variant_index), "cpu",
        "2.11.0",      2,        4};
    run.variant = job.variant;
    run.variant_index = job.variant_index;
    run.sweep_field = "method.rank";
    run.sweep_value = job.variant_index == 0 ? "4" : "8";
    StreamDescribed stream{
        {TaskInfo{0, "t0", {0, 1}, "identity", 10, 100}, TaskInfo{1, "t1", {2, 3}, "identity", 10, 100}}, TaskInfo{}};
    EvaluationDone eval0{{EvalRow{0, 0, 2, EvalPhase::end_of_task, HeadMode::class_il, 90, 100}}, {}};
    EvaluationDone eval1{{EvalRow{1, 0, 4, EvalPhase::end_of_task, HeadMode::class_il, job.correct, 100},
                          EvalRow{1, 1, 4, EvalPhase::end_of_task, HeadMode::class_il, job.correct, 100}},
                         {}};
    return {experiment,
            run,
            stream,
            StepMetrics{0, 0, 1, 1, 2.0, 1e-3, 5.0},
            eval0,
            StepMetrics{1, 0, 3, 1, 1.5, 1e-3, 5.0},
            eval1,
            RunFinished{RunStatus::finished, "", 1.0},
            ExperimentFinished{RunStatus::finished}};
}

const std::vector<SweepJob>& sweep_jobs() {
    static const std::vector<SweepJob> jobs = {
        {0, "rank=4", 0, 1, 60}, {0, "rank=4", 1, 2, 70}, {1, "rank=8", 0, 1, 80}, {1, "rank=8", 1, 2, 50}};
    return jobs;
}

// Overwrites `count` bytes of `path` from `offset` with a pattern.
void scribble(const std::string& path, std::streamoff offset, int count) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(offset);
    for (int i = 0; i < count; ++i) f.put(static_cast<char>(0xA5 ^ (i * 37)));
}

}  // namespace

TEST(ShardMergeTest, CopiesEveryRowOfARunAndKeepsItsIdentity) {
    TempDir dir;
    const std::string shard = dir.file("shards/job0.sqlite");
    const std::string into = dir.file("merged.sqlite");
    const int64_t shard_run = write_script(shard);
    RunStore target = RunStore::open(into);
    // A run already in the target: merged runs get the target's next ids.
    target.insert_run(RunRecord{});

    const MergeReport r = merge_shard(target, shard);
    EXPECT_EQ(r.runs_added, 1);
    EXPECT_EQ(r.runs_skipped, 0);
    EXPECT_EQ(r.experiments_added, 1);
    EXPECT_EQ(r.experiments_matched, 0);
    // tasks 3 + steps 6 (+ their one 64-step loss block) + eval 10 + class 3 + method state 1+1+2+3+1 +
    // analysis 4 + artifact 1
    EXPECT_EQ(r.rows_copied, 3 + 6 + 1 + 10 + 3 + 8 + 4 + 1);
    EXPECT_EQ(r.shard, shard);

    RunStore source = RunStore::open(shard);
    const auto uuid = source.run(shard_run)->uuid;
    ASSERT_TRUE(is_uuid(uuid));
    const auto merged = target.run_by_uuid(uuid);
    ASSERT_TRUE(merged);
    EXPECT_EQ(merged->id, 2);
    expect_same_run(source, shard_run, target, merged->id);
    const auto experiment = target.experiment(merged->experiment_id);
    ASSERT_TRUE(experiment);
    const auto shard_experiment = source.list_experiments().at(0);
    EXPECT_EQ(experiment->uuid, shard_experiment.uuid);
    EXPECT_EQ(experiment->name, shard_experiment.name);
    EXPECT_EQ(experiment->config_json, shard_experiment.config_json);
    EXPECT_EQ(experiment->created_at, shard_experiment.created_at);
}

TEST(ShardMergeTest, ALongRunsLossBlocksComeAlong) {
    TempDir dir;
    const std::string shard = dir.file("job0.sqlite");
    int64_t shard_run = 0;
    {
        RunStore store = RunStore::open(shard);
        shard_run = store.insert_run(RunRecord{});
        std::vector<StepMetrics> steps;
        for (int s = 1; s <= 3000; ++s) steps.push_back({0, 0, s, s, 1.0 + std::cos(0.01 * s), 1e-3, 5.0});
        store.insert_step_metrics(shard_run, steps);
    }
    RunStore target = RunStore::open(dir.file("merged.sqlite"));
    merge_shard(target, shard);
    RunStore source = RunStore::open(shard);
    const auto expected = source.step_curve(shard_run, StepSeries::loss, 10);  // 3000 ≥ 4·64·10: the block path
    const auto merged = target.step_curve(target.list_runs().at(0).id, StepSeries::loss, 10);
    ASSERT_EQ(expected.size(), 10u);
    ASSERT_EQ(merged.size(), expected.size());
    for (std::size_t i = 0; i < merged.size(); ++i) {
        EXPECT_EQ(merged[i].first_step, expected[i].first_step);
        EXPECT_EQ(merged[i].points, expected[i].points);
        EXPECT_EQ(merged[i].min, expected[i].min);
        EXPECT_EQ(merged[i].max, expected[i].max);
    }
}

TEST(ShardMergeTest, MergingTheSameShardTwiceAddsNothing) {
    TempDir dir;
    const std::string shard = dir.file("job0.sqlite");
    const std::string into = dir.file("merged.sqlite");
    write_script(shard);
    RunStore target = RunStore::open(into);
    const MergeReport first = merge_shard(target, shard);
    ASSERT_EQ(first.runs_added, 1);
    const auto before = content_of(into);

    const MergeReport second = merge_shard(target, shard);
    EXPECT_EQ(second.runs_added, 0);
    EXPECT_EQ(second.runs_replaced, 0);
    EXPECT_EQ(second.runs_skipped, 1);
    EXPECT_EQ(second.experiments_added, 0);
    EXPECT_EQ(second.experiments_matched, 1);
    EXPECT_EQ(second.rows_copied, 0);
    EXPECT_EQ(content_of(into), before);
}

TEST(ShardMergeTest, SweepJobsBecomeOneExperimentGroupedAsInOneProcess) {
    TempDir dir;
    const std::string sweep_uuid = new_uuid();
    std::vector<std::string> shards;
    for (std::size_t i = 0; i < sweep_jobs().size(); ++i) {
        shards.push_back(dir.file("shards/job" + std::to_string(i) + ".sqlite"));
        StoreListenerOptions options;
        options.experiment_uuid = sweep_uuid;
        StoreListener listener(std::make_shared<RunStore>(RunStore::open(shards.back())), options);
        for (const Event& e : job_events(sweep_jobs()[i])) listener.on_event(e);
    }
    // The same four runs written by one process: one experiment, runs in job order.
    const std::string single = dir.file("single.sqlite");
    int64_t single_experiment = 0;
    {
        StoreListener listener(single);
        listener.on_event(job_events(sweep_jobs()[0]).front());  // ExperimentStarted, once
        for (const SweepJob& job : sweep_jobs())
            for (const Event& e : job_events(job))
                if (!std::holds_alternative<ExperimentStarted>(e) && !std::holds_alternative<ExperimentFinished>(e))
                    listener.on_event(e);
        listener.on_event(ExperimentFinished{RunStatus::finished});
        single_experiment = listener.experiment_id();
    }

    // Merge in an order unlike the jobs' order.
    const std::string into = dir.file("merged.sqlite");
    RunStore target = RunStore::open(into);
    int added = 0, matched = 0;
    for (int i : {3, 0, 2, 1}) {
        const MergeReport r = merge_shard(target, shards[static_cast<std::size_t>(i)]);
        added += r.experiments_added;
        matched += r.experiments_matched;
        EXPECT_EQ(r.runs_added, 1);
    }
    EXPECT_EQ(added, 1);
    EXPECT_EQ(matched, 3);
    const auto experiments = target.list_experiments();
    ASSERT_EQ(experiments.size(), 1u);
    EXPECT_EQ(experiments[0].uuid, sweep_uuid);
    EXPECT_EQ(experiments[0].name, "rank sweep");
    const auto runs = target.runs_of_experiment(experiments[0].id);
    ASSERT_EQ(runs.size(), 4u);

    RunStore reference = RunStore::open(single);
    const auto merged_variants = summarize_variants(target, experiments[0].id);
    const auto single_variants = summarize_variants(reference, single_experiment);
    ASSERT_EQ(merged_variants.size(), 2u);
    ASSERT_EQ(merged_variants.size(), single_variants.size());
    for (std::size_t v = 0; v < merged_variants.size(); ++v) {
        const auto& m = merged_variants[v];
        const auto& s = single_variants[v];
        EXPECT_EQ(m.index, s.index);
        EXPECT_EQ(m.label, s.label);
        EXPECT_EQ(m.run_ids.size(), 2u);
        EXPECT_EQ(m.finished, s.finished);
        std::vector<int64_t> merged_seeds, single_seeds;
        for (int64_t id : m.run_ids) merged_seeds.push_back(target.run(id)->seed);
        for (int64_t id : s.run_ids) single_seeds.push_back(reference.run(id)->seed);
        std::sort(merged_seeds.begin(), merged_seeds.end());
        std::sort(single_seeds.begin(), single_seeds.end());
        EXPECT_EQ(merged_seeds, single_seeds);
        EXPECT_EQ(m.metrics.runs, s.metrics.runs);
        ASSERT_EQ(m.metrics.metrics.size(), s.metrics.metrics.size());
        for (std::size_t k = 0; k < m.metrics.metrics.size(); ++k) {
            const auto& mk = m.metrics.metrics[k];
            const auto& sk = s.metrics.metrics[k];
            EXPECT_EQ(mk.key, sk.key);
            EXPECT_EQ(mk.n, sk.n) << mk.key;
            ASSERT_EQ(mk.mean.has_value(), sk.mean.has_value()) << mk.key;
            if (mk.mean) {
                EXPECT_DOUBLE_EQ(*mk.mean, *sk.mean) << mk.key;
            }
        }
    }
    // Hand-computed: the last matrix row of variant rank=4 is (60, 60) for seed 1 and (70, 70) for seed 2.
    const MetricSet seed1 = stored_run_metrics(target, merged_variants[0].run_ids[0], HeadMode::class_il);
    const MetricSet seed2 = stored_run_metrics(target, merged_variants[0].run_ids[1], HeadMode::class_il);
    ASSERT_TRUE(seed1.acc && seed2.acc);
    EXPECT_DOUBLE_EQ(*seed1.acc + *seed2.acc, 60.0 + 70.0);
}

TEST(ShardMergeTest, RewritesArtifactPathsAndCountsMissingOnes) {
    TempDir dir;
    const std::string shard = dir.file("shards/job0.sqlite");
    const std::string present = dir.file("shared/job0/runs/r1/task0");
    std::filesystem::create_directories(present);
    int64_t run_id = 0;
    {
        RunStore store = RunStore::open(shard);
        run_id = store.insert_run(RunRecord{});
        store.insert_artifact(run_id, {"run_checkpoint", "/node-local/job0/runs/r1/task0",
                                       R"({"task":0,"run_dir":"/node-local/job0/runs/r1"})"});
        store.insert_artifact(run_id, {"adapter_export", "/node-local/job00/other", "{}"});  // not a path prefix
    }
    {
        // A relative path as an older writer could have left it: resolved against the shard's directory.
        Database db(shard);
        db.exec("INSERT INTO artifacts(run_id, kind, path, meta_json, created_at) VALUES(" + std::to_string(run_id) +
                ", 'foundation_checkpoint', 'cache/foundation.safetensors', '', '2025-01-01T00:00:00.000Z')");
    }
    RunStore target = RunStore::open(dir.file("merged.sqlite"));
    MergeOptions options;
    options.artifact_prefixes = {{"/node-local/job0", dir.file("shared/job0")}};
    const MergeReport r = merge_shard(target, shard, options);
    EXPECT_EQ(r.artifacts_rewritten, 2);  // the prefixed checkpoint (path and run_dir) and the relative path
    EXPECT_EQ(r.artifacts_missing, 2);    // /node-local/job00/other and the relative foundation file

    const auto artifacts = target.artifacts(target.list_runs().at(0).id);
    ASSERT_EQ(artifacts.size(), 3u);
    EXPECT_EQ(artifacts[0].path, present);
    EXPECT_EQ(artifacts[0].meta_json,
              (nlohmann::json{{"task", 0}, {"run_dir", dir.file("shared/job0/runs/r1")}}.dump()));
    EXPECT_EQ(artifacts[1].path, "/node-local/job00/other");
    EXPECT_EQ(artifacts[2].path, dir.file("shards/cache/foundation.safetensors"));
}

TEST(ShardMergeTest, ReplacesARunMergedWhileItWasRunning) {
    TempDir dir;
    const std::string shard = dir.file("job0.sqlite");
    RunStore target = RunStore::open(dir.file("merged.sqlite"));
    int64_t shard_run = 0;
    {
        RunStore store = RunStore::open(shard);
        shard_run = store.insert_run(0, RunStarted{0, 7, "lora", "{}", "h", "cpu", "2.11.0", 1, 2});
        store.insert_step_metrics(shard_run, {{0, 0, 1, 1, 2.0, 1e-3, 5.0}});
    }
    ASSERT_EQ(merge_shard(target, shard).runs_added, 1);
    const int64_t merged_id = target.list_runs().at(0).id;
    target.set_run_notes(merged_id, "looked at it half-way");
    {
        RunStore store = RunStore::open(shard);
        store.insert_step_metrics(shard_run, {{0, 0, 2, 2, 1.0, 1e-3, 5.0}});
        store.finish_run(shard_run, RunStatus::finished, "", 3.0);
    }
    const MergeReport r = merge_shard(target, shard);
    EXPECT_EQ(r.runs_replaced, 1);
    EXPECT_EQ(r.runs_added, 0);
    const auto runs = target.list_runs();
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].id, merged_id);
    EXPECT_EQ(runs[0].status, RunStatus::finished);
    EXPECT_EQ(runs[0].notes, "looked at it half-way");
    EXPECT_EQ(target.step_metrics(merged_id).size(), 2u);
    // Finished now: a third merge leaves it alone.
    EXPECT_EQ(merge_shard(target, shard).runs_skipped, 1);
}

// ---- bad shards: a clear error naming the file, target unchanged ------------------------------------

class BadShardTest : public ::testing::Test {
protected:
    void SetUp() override {
        into_ = dir_.file("merged.sqlite");
        good_ = dir_.file("good.sqlite");
        write_script(good_);
        target_ = std::make_unique<RunStore>(RunStore::open(into_));
        merge_shard(*target_, good_);
        before_ = content_of(into_);
    }

    // Merging `shard` fails with a message naming it and containing `expected`; the target is unchanged.
    void expect_refused(const std::string& shard, const std::string& expected) {
        std::string message;
        try {
            merge_shard(*target_, shard);
            ADD_FAILURE() << "merge of " << shard << " did not fail";
        } catch (const ShardMergeError& e) {
            message = e.what();
            EXPECT_EQ(e.shard(), shard);
        }
        EXPECT_NE(message.find("'" + shard + "'"), std::string::npos) << message;
        EXPECT_NE(message.find(expected), std::string::npos) << message;
        EXPECT_EQ(content_of(into_), before_);
        EXPECT_EQ(schema_version_of(into_), latest_schema_version());
    }

    static int schema_version_of(const std::string& path) {
        Database db(path, OpenMode::read_only);
        return schema_version(db);
    }

    TempDir dir_;
    std::string into_, good_;
    std::unique_ptr<RunStore> target_;
    std::map<std::string, int64_t> before_;
};

TEST_F(BadShardTest, NewerSchema) {
    const std::string shard = dir_.file("newer.sqlite");
    write_script(shard);
    {
        Database db(shard);
        db.exec("PRAGMA user_version = " + std::to_string(latest_schema_version() + 1));
    }
    expect_refused(shard, "newer Lorica");
}

TEST_F(BadShardTest, OlderSchemaAsksForAnUpgrade) {
    const std::string shard = dir_.file("older.sqlite");
    lorica::testing::write_database_of_version(shard, 3, [](Database&) {});
    expect_refused(shard, "older schema version 3");
}

TEST_F(BadShardTest, DamagedFile) {
    const std::string shard = dir_.file("damaged.sqlite");
    Script s;
    for (int i = 0; i < 400; ++i) s.steps.push_back({1, 0, 10 + i, 4 + i, 0.5, 1e-4, 1.0});  // several pages
    write_script(shard, s);
    {
        Database db(shard);
        db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    const auto size = static_cast<std::streamoff>(std::filesystem::file_size(shard));
    ASSERT_GT(size, 4 * 4096);
    scribble(shard, 2 * 4096, static_cast<int>(size - 2 * 4096));  // every page after the second
    expect_refused(shard, "damaged");
}

TEST_F(BadShardTest, TextFile) {
    const std::string shard = dir_.file("notes.txt");
    std::ofstream(shard) << "run,acc\n1,0.5\n";
    expect_refused(shard, "not a Lorica results database");
}

TEST_F(BadShardTest, ForeignSqliteDatabase) {
    const std::string shard = dir_.file("other.sqlite");
    {
        Database db(shard);
        db.exec("CREATE TABLE runs(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO runs(name) VALUES('x')");
    }
    expect_refused(shard, "not a Lorica results database");
}

TEST_F(BadShardTest, MissingFile) { expect_refused(dir_.file("absent.sqlite"), "no such file"); }

TEST_F(BadShardTest, TheTargetItself) { expect_refused(into_, "target database itself"); }

TEST_F(BadShardTest, FailureWhileCopyingRollsBackEverything) {
    // A run pointing at an experiment the shard lacks: found only after the shard's experiment and an
    // earlier run were written into the open transaction.
    const std::string shard = dir_.file("dangling.sqlite");
    {
        RunStore store = RunStore::open(shard);
        const int64_t experiment = store.insert_experiment(ExperimentStarted{"e", "{}", "h", {1}, {}});
        RunRecord ok;
        ok.experiment_id = experiment;
        store.insert_run(ok);
        store.insert_step_metrics(1, {{0, 0, 1, 1, 2.0, 1e-3, 5.0}});
    }
    {
        Database db(shard);
        db.exec("PRAGMA foreign_keys = OFF");
        db.exec("INSERT INTO runs(experiment_id, started_at, uuid) VALUES(999, '2025-01-01T00:00:00.000Z', '" +
                new_uuid() + "')");
    }
    expect_refused(shard, "rolled back");
}

TEST_F(BadShardTest, CheckShardAcceptsAGoodShard) { EXPECT_NO_THROW(check_shard(good_)); }

}  // namespace lorica
