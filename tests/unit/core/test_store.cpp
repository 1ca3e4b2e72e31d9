// Tests of the SQLite results store: the RAII wrapper, schema migrations, RunStore writers and
// readers, crash recovery (interrupted runs) and the StoreListener's event mapping and batching.

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

namespace lorica {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        const std::string test = info ? std::string(info->test_suite_name()) + "-" + info->name() : "test";
        dir_ = fs::temp_directory_path() /
               ("lorica-store-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + "-" + test);
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(dir_, ec);
    }
    std::string file(const std::string& name) const { return (dir_ / name).string(); }
    const fs::path& path() const { return dir_; }

private:
    fs::path dir_;
};

// Runs `fn`, expects it to throw, and returns the message.
template <typename Fn>
std::string error_of(Fn&& fn) {
    try {
        fn();
    } catch (const std::exception& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected an exception";
    return {};
}

// A pid that belonged to a process that has ended (a forked child that exited and was reaped).
int64_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return static_cast<int64_t>(child);
}

// Same value, NaN included (NaN is stored as NULL and read back as NaN).
void expect_same_double(double expected, double actual) {
    if (std::isnan(expected)) EXPECT_TRUE(std::isnan(actual)) << actual;
    else EXPECT_EQ(expected, actual);
}

void expect_eq(const TaskInfo& a, const TaskInfo& b) {
    EXPECT_EQ(a.task, b.task);
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.classes, b.classes);
    EXPECT_EQ(a.domain, b.domain);
    EXPECT_EQ(a.train_samples, b.train_samples);
    EXPECT_EQ(a.test_samples, b.test_samples);
}

void expect_eq(const StepMetrics& a, const StepMetrics& b) {
    EXPECT_EQ(a.task, b.task);
    EXPECT_EQ(a.epoch, b.epoch);
    EXPECT_EQ(a.step, b.step);
    EXPECT_EQ(a.step_in_task, b.step_in_task);
    expect_same_double(a.loss, b.loss);
    expect_same_double(a.lr, b.lr);
    expect_same_double(a.step_ms, b.step_ms);
}

void expect_eq(const EvalRow& a, const EvalRow& b) {
    EXPECT_EQ(a.after_task, b.after_task);
    EXPECT_EQ(a.eval_task, b.eval_task);
    EXPECT_EQ(a.step, b.step);
    EXPECT_EQ(a.phase, b.phase);
    EXPECT_EQ(a.head_mode, b.head_mode);
    EXPECT_EQ(a.correct, b.correct);
    EXPECT_EQ(a.total, b.total);
}

void expect_eq(const ClassEvalRow& a, const ClassEvalRow& b) {
    EXPECT_EQ(a.after_task, b.after_task);
    EXPECT_EQ(a.eval_task, b.eval_task);
    EXPECT_EQ(a.class_id, b.class_id);
    EXPECT_EQ(a.correct, b.correct);
    EXPECT_EQ(a.total, b.total);
}

void expect_eq(const MethodState& a, const MethodState& b) {
    EXPECT_EQ(a.task, b.task);
    EXPECT_EQ(a.step, b.step);
    EXPECT_EQ(a.key, b.key);
    ASSERT_EQ(a.values.size(), b.values.size()) << a.key;
    for (std::size_t i = 0; i < a.values.size(); ++i) expect_same_double(a.values[i], b.values[i]);
}

void expect_eq(const AnalysisPoint& a, const AnalysisPoint& b) {
    EXPECT_EQ(a.analysis, b.analysis);
    EXPECT_EQ(a.series, b.series);
    expect_same_double(a.x, b.x);
    expect_same_double(a.y, b.y);
}

template <typename T, typename U, typename Get>
void expect_all_eq(const std::vector<T>& expected, const std::vector<U>& actual, Get get) {
    ASSERT_EQ(expected.size(), actual.size());
    for (std::size_t i = 0; i < expected.size(); ++i) expect_eq(expected[i], get(actual[i]));
}

const auto identity = [](const auto& x) -> const auto& { return x; };

bool is_iso8601_utc(const std::string& s) {
    // "2025-01-31T12:34:56.789Z"
    return s.size() == 24 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' &&
           s[19] == '.' && s[23] == 'Z';
}

// ---- a complete event stream ------------------------------------------------------------------------

struct Script {
    ExperimentStarted experiment{"sd-lora-cifar", R"({"method":"sd-lora","seeds":[1993,1994]})", "abc123",
                                 {1993, 1994}};
    RunStarted run{0, 1993, "sd-lora", R"({"method":"sd-lora","seeds":[1993]})", "def456", "cpu", "2.11.0", 2, 6};
    StreamDescribed stream{
        {TaskInfo{0, "t0: identity {3, 7}", {3, 7}, "identity", 1200, 200},
         TaskInfo{1, "t1: rot180 {1, 2}", {1, 2}, "rot180", 1100, 210}},
        TaskInfo{kFoundationTask, "foundation", {0, 4, 5, 6, 8, 9}, "identity", 6000, 1000}};
    TaskStarted start0{0, 3, 36864};
    TaskStarted start1{1, 3, 36874};
    std::vector<StepMetrics> steps{
        {0, 0, 1, 1, 2.302585092994046, 1e-3, 12.5},
        {0, 0, 2, 2, std::numeric_limits<double>::quiet_NaN(), 9.5e-4, 11.25},
        {0, 1, 3, 3, 1.75, 9e-4, 10.0},
        {1, 0, 4, 1, 2.1, 1e-3, 10.5},
        {1, 0, 5, 2, 1.9, 9e-4, 10.75},
        {1, 0, 6, 3, 1.0 / 3.0, 8e-4, 10.125},
    };
    EvaluationDone eval0{
        {EvalRow{0, 0, 3, EvalPhase::end_of_task, HeadMode::class_il, 180, 200},
         EvalRow{0, 0, 3, EvalPhase::end_of_task, HeadMode::task_il, 190, 200},
         EvalRow{0, kFoundationTask, 3, EvalPhase::end_of_task, HeadMode::task_il, 930, 1000},
         EvalRow{0, 1, 3, EvalPhase::before_task, HeadMode::class_il, 0, 210}},
        {ClassEvalRow{0, kFoundationTask, 0, 95, 100}, ClassEvalRow{0, kFoundationTask, 4, 88, 100}}};
    EvaluationDone eval1{
        {EvalRow{1, 0, 6, EvalPhase::end_of_task, HeadMode::class_il, 150, 200},
         EvalRow{1, 1, 6, EvalPhase::end_of_task, HeadMode::class_il, 200, 210},
         EvalRow{0, 0, 4, EvalPhase::in_task, HeadMode::class_il, 170, 200},
         EvalRow{1, 0, 6, EvalPhase::before_handover, HeadMode::class_il, 151, 200},
         EvalRow{1, 0, 6, EvalPhase::after_handover, HeadMode::class_il, 149, 200},
         EvalRow{-1, 1, 0, EvalPhase::random_init, HeadMode::class_il, 21, 210}},
        {ClassEvalRow{1, kFoundationTask, 0, 90, 100}}};
    std::vector<MethodState> states{
        {0, 3, "magnitude", {0.8}},
        {0, 3, "empty", {}},
        {1, 6, "magnitude", {0.81, 1.25}},
        {1, 6, "magnitude", {0.5, std::numeric_limits<double>::quiet_NaN(), 0.25}},  // same key/step again
        {1, 6, "residual", {9e-4}},
    };
    AnalysisDone analysis{{{"interpolation", "sd-lora/task0", 0.0, 0.9},
                           {"interpolation", "sd-lora/task0", 0.1, 0.85},
                           {"interpolation", "lora/task1", 0.0, 0.5},
                           {"residual", "global", 3.0, 1e-3}}};
    ArtifactWritten artifact{"adapter_export", "/tmp/run1/adapter", R"({"rank":10})"};
    RunFinished finished{RunStatus::finished, "", 12.75};

    std::vector<Event> events() const {
        std::vector<Event> ev;
        ev.emplace_back(experiment);
        ev.emplace_back(run);
        ev.emplace_back(stream);
        ev.emplace_back(FoundationProgress{0, 0, 0.0, true, "/cache/foundation.safetensors"});
        ev.emplace_back(start0);
        for (int i = 0; i < 3; ++i) ev.emplace_back(steps[i]);
        ev.emplace_back(EpochFinished{0, 0, 2.0});
        ev.emplace_back(eval0);
        ev.emplace_back(states[0]);
        ev.emplace_back(states[1]);
        ev.emplace_back(TaskFinished{0, 1.5});
        ev.emplace_back(start1);
        for (int i = 3; i < 6; ++i) ev.emplace_back(steps[i]);
        ev.emplace_back(eval1);
        ev.emplace_back(states[2]);
        ev.emplace_back(states[3]);
        ev.emplace_back(states[4]);
        ev.emplace_back(analysis);
        ev.emplace_back(artifact);
        ev.emplace_back(Warning{"a warning from the test (expected in the log)"});
        ev.emplace_back(TaskFinished{1, 2.25});
        ev.emplace_back(finished);
        ev.emplace_back(ExperimentFinished{RunStatus::finished});
        return ev;
    }
};

}  // namespace

// ---- SQLite wrapper -----------------------------------------------------------------------------

TEST(StoreSqliteTest, StatementBindsStepsAndReadsColumns) {
    TempDir dir;
    Database db(dir.file("a.db"));
    db.exec("CREATE TABLE t(i INTEGER, d REAL, s TEXT, n TEXT)");
    Statement ins(db, "INSERT INTO t VALUES(?, ?, ?, ?)");
    ins.bind_int64(1, 1LL << 40).bind_double(2, 0.1).bind_text(3, std::string("a\0b", 3)).bind_null(4);
    ins.execute();
    ins.bind_int64(1, -7).bind_double(2, -2.5).bind_text(3, "zweite Zeile ✓").bind_text(4, "x");
    ins.execute();
    EXPECT_EQ(db.last_insert_rowid(), 2);

    Statement q(db, "SELECT i, d, s, n FROM t ORDER BY rowid");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_count(), 4);
    EXPECT_EQ(q.column_int64(0), 1LL << 40);
    EXPECT_EQ(q.column_double(1), 0.1);
    EXPECT_EQ(q.column_text(2), std::string("a\0b", 3));
    EXPECT_TRUE(q.column_is_null(3));
    EXPECT_EQ(q.column_text(3), "");
    ASSERT_TRUE(q.step());
    EXPECT_EQ(q.column_text(2), "zweite Zeile ✓");
    EXPECT_FALSE(q.step());
    q.reset();
    EXPECT_TRUE(q.step());
    EXPECT_EQ(db.query_int64("SELECT count(*) FROM t"), 2);
}

TEST(StoreSqliteTest, TransactionRollsBackUnlessCommitted) {
    TempDir dir;
    Database db(dir.file("a.db"));
    db.exec("CREATE TABLE t(x INTEGER)");
    {
        Transaction tx(db);
        db.exec("INSERT INTO t VALUES(1)");
        EXPECT_TRUE(db.in_transaction());
    }
    EXPECT_FALSE(db.in_transaction());
    EXPECT_EQ(db.query_int64("SELECT count(*) FROM t"), 0);
    {
        Transaction tx(db);
        db.exec("INSERT INTO t VALUES(2)");
        tx.commit();
        EXPECT_TRUE(tx.committed());
    }
    EXPECT_EQ(db.query_int64("SELECT count(*) FROM t"), 1);
}

TEST(StoreSqliteTest, ErrorsNameTheFileAndTheSqlStep) {
    TempDir dir;
    const std::string path = dir.file("named.db");
    Database db(path);
    std::string msg = error_of([&] { db.exec("CREATE TABLE broken("); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("exec"), std::string::npos) << msg;
    EXPECT_NE(msg.find("CREATE TABLE broken("), std::string::npos) << msg;

    msg = error_of([&] { Statement st(db, "SELECT * FROM no_such_table"); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("prepare"), std::string::npos) << msg;
    EXPECT_NE(msg.find("no_such_table"), std::string::npos) << msg;

    db.exec("CREATE TABLE u(x INTEGER NOT NULL)");
    Statement st(db, "INSERT INTO u VALUES(?)");
    st.bind_null(1);
    try {
        st.execute();
        FAIL() << "NOT NULL violation not reported";
    } catch (const DatabaseError& e) {
        EXPECT_NE(std::string(e.what()).find("step"), std::string::npos) << e.what();
        EXPECT_EQ(e.path(), path);
    }

    msg = error_of([&] { Database missing(dir.file("no/such/dir/x.db")); });
    EXPECT_NE(msg.find("no/such/dir/x.db"), std::string::npos) << msg;
}

// ---- schema -------------------------------------------------------------------------------------

TEST(StoreSchemaTest, MigrationsAreConsecutiveAndIdempotent) {
    const auto& ms = schema_migrations();
    ASSERT_FALSE(ms.empty());
    for (std::size_t i = 0; i < ms.size(); ++i) EXPECT_EQ(ms[i].version, static_cast<int>(i) + 1);
    EXPECT_EQ(latest_schema_version(), ms.back().version);
    EXPECT_GE(latest_schema_version(), 2);

    TempDir dir;
    Database db(dir.file("s.db"));
    EXPECT_EQ(schema_version(db), 0);
    migrate(db);
    EXPECT_EQ(schema_version(db), latest_schema_version());
    migrate(db);  // no-op
    migrate(db, 1);  // no downgrade
    EXPECT_EQ(schema_version(db), latest_schema_version());
    EXPECT_THROW(migrate(db, latest_schema_version() + 1), std::invalid_argument);
}

TEST(RunStoreTest, MigratesAVersion1DatabaseAndKeepsItsRuns) {
    TempDir dir;
    const std::string path = dir.file("old.db");
    int64_t run_id = 0;
    {
        Database db(path);
        migrate(db, 1);
        ASSERT_EQ(schema_version(db), 1);
        db.exec("INSERT INTO experiments(name, config_json, config_hash, created_at) "
                "VALUES('old', '{}', 'h', '2024-05-01T10:00:00.000Z')");
        db.exec("INSERT INTO runs(experiment_id, run_index, seed, method, config_json, config_hash, lorica_version, "
                "torch_version, device, host, pid, started_at, ended_at, status, message, num_tasks, total_steps) "
                "VALUES(1, 0, 1993, 'lora', '{}', 'h', '0.0.1', '2.3.0', 'cpu', 'elsewhere', 42, "
                "'2024-05-01T10:00:01.000Z', '2024-05-01T11:00:00.000Z', 'finished', '', 5, 500)");
        run_id = db.last_insert_rowid();
        db.exec("INSERT INTO eval_rows VALUES(" + std::to_string(run_id) +
                ", 0, 0, 100, 'end_of_task', 'class_il', 90, 100)");
        db.exec("INSERT INTO tasks(run_id, task_index, name, classes_json, domain, train_samples, test_samples) "
                "VALUES(" + std::to_string(run_id) + ", 0, 't0', '[1,2]', 'identity', 10, 5)");
    }
    RunStore store = RunStore::open(path);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    {
        Database db(path);
        EXPECT_EQ(db.query_int64("PRAGMA user_version"), latest_schema_version());
    }
    const auto run = store.run(run_id);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->method, "lora");
    EXPECT_EQ(run->seed, 1993);
    EXPECT_EQ(run->status, RunStatus::finished);
    EXPECT_EQ(run->total_steps, 500);
    EXPECT_EQ(run->notes, "");
    EXPECT_EQ(run->seconds, 0.0);
    EXPECT_EQ(run->experiment_id, 1);
    const auto rows = store.eval_rows(run_id);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].row.correct, 90);
    const auto tasks = store.tasks(run_id);
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0].info.classes, (std::vector<int>{1, 2}));
    EXPECT_EQ(tasks[0].planned_steps, 0);
    // The new tables and columns work on the migrated file.
    store.insert_analysis_points(run_id, {{"interpolation", "lora", 0.5, 0.7}});
    store.set_run_notes(run_id, "migrated");
    EXPECT_EQ(store.analysis_points(run_id).size(), 1u);
    EXPECT_EQ(store.run(run_id)->notes, "migrated");
}

TEST(RunStoreTest, RefusesADatabaseFromANewerLorica) {
    TempDir dir;
    const std::string path = dir.file("future.db");
    {
        Database db(path);
        db.exec("CREATE TABLE something_new(x)");
        db.exec("PRAGMA user_version = 999");
    }
    const std::string msg = error_of([&] { RunStore::open(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("999"), std::string::npos) << msg;
    EXPECT_NE(msg.find("newer"), std::string::npos) << msg;
    Database db(path);
    EXPECT_EQ(schema_version(db), 999);  // untouched
}

TEST(RunStoreTest, CorruptFileGivesAnErrorNamingIt) {
    TempDir dir;
    const std::string path = dir.file("garbage.db");
    {
        std::ofstream out(path, std::ios::binary);
        for (int i = 0; i < 4096; ++i) out.put(static_cast<char>((i * 131 + 7) % 251));
    }
    const std::string msg = error_of([&] { RunStore::open(path); });
    EXPECT_NE(msg.find(path), std::string::npos) << msg;
    EXPECT_NE(msg.find("not a database"), std::string::npos) << msg;
}

TEST(RunStoreTest, OpenCreatesParentDirectoriesAndUsesWal) {
    TempDir dir;
    const std::string path = dir.file("nested/deeper/results.db");
    {
        RunStore store = RunStore::open(path);
        EXPECT_EQ(store.path(), path);
        EXPECT_TRUE(store.list_experiments().empty());
    }
    EXPECT_TRUE(fs::exists(path));
    Database db(path);
    Statement st(db, "PRAGMA journal_mode");
    ASSERT_TRUE(st.step());
    EXPECT_EQ(st.column_text(0), "wal");
}

// ---- crash recovery -----------------------------------------------------------------------------

TEST(RunStoreTest, MarksRunsOfDeadProcessesInterrupted) {
    TempDir dir;
    const std::string path = dir.file("r.db");
    int64_t dead_run = 0, live_run = 0, other_host_run = 0;
    {
        RunStore store = RunStore::open(path);
        RunRecord r;
        r.method = "lora";
        r.status = RunStatus::running;
        r.host = RunStore::host_name();
        r.pid = dead_pid();
        dead_run = store.insert_run(r);
        store.insert_evaluation(dead_run, EvaluationDone{{EvalRow{0, 0, 10, EvalPhase::end_of_task,
                                                                  HeadMode::class_il, 7, 10}},
                                                         {}});
        r.pid = ::getpid();  // this process: alive
        live_run = store.insert_run(r);
        r.host = "some-other-host.invalid";
        r.pid = dead_pid();  // dead here, but on another host: cannot tell
        other_host_run = store.insert_run(r);
    }
    RunStore store = RunStore::open(path);
    const auto dead = store.run(dead_run);
    ASSERT_TRUE(dead.has_value());
    EXPECT_EQ(dead->status, RunStatus::interrupted);
    EXPECT_TRUE(is_iso8601_utc(dead->ended_at)) << dead->ended_at;
    EXPECT_NE(dead->message.find(std::to_string(dead->pid)), std::string::npos) << dead->message;
    const auto rows = store.eval_rows(dead_run);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].row.correct, 7);
    EXPECT_EQ(rows[0].run_id, dead_run);

    EXPECT_EQ(store.run(live_run)->status, RunStatus::running);
    EXPECT_EQ(store.run(live_run)->ended_at, "");
    EXPECT_EQ(store.run(other_host_run)->status, RunStatus::running);
    EXPECT_EQ(store.mark_interrupted_runs(), 0);
}

// ---- readers ------------------------------------------------------------------------------------

TEST(RunStoreTest, ListRunsFilters) {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("f.db"));
    const int64_t e1 = store.insert_experiment({"one", "{}", "h1", {1}}, "2025-01-01T00:00:00.000Z");
    const int64_t e2 = store.insert_experiment({"two", "{}", "h2", {1}});
    auto add = [&](int64_t exp, const std::string& method, RunStatus status, const std::string& started) {
        RunRecord r;
        r.experiment_id = exp;
        r.method = method;
        r.status = status;
        r.started_at = started;
        r.ended_at = status == RunStatus::running ? "" : started;
        return store.insert_run(r);
    };
    const int64_t a = add(e1, "sd-lora", RunStatus::finished, "2025-01-30T23:59:59.000Z");
    const int64_t b = add(e1, "sd-lora-kd", RunStatus::failed, "2025-01-31T12:00:00.000Z");
    const int64_t c = add(e2, "lori-s", RunStatus::finished, "2025-02-01T08:00:00.000Z");

    auto ids = [](const std::vector<RunRecord>& runs) {
        std::vector<int64_t> out;
        for (const auto& r : runs) out.push_back(r.id);
        return out;
    };
    EXPECT_EQ(ids(store.list_runs()), (std::vector<int64_t>{a, b, c}));
    EXPECT_EQ(ids(store.list_runs({"SD-LoRA", {}, {}, "", ""})), (std::vector<int64_t>{a, b}));
    EXPECT_EQ(ids(store.list_runs({"", RunStatus::finished, {}, "", ""})), (std::vector<int64_t>{a, c}));
    EXPECT_EQ(ids(store.list_runs({"", {}, {}, "2025-01-31", ""})), (std::vector<int64_t>{b, c}));
    EXPECT_EQ(ids(store.list_runs({"", {}, {}, "", "2025-01-31"})), (std::vector<int64_t>{a, b}));
    EXPECT_EQ(ids(store.list_runs({"", {}, {}, "2025-01-31", "2025-01-31"})), (std::vector<int64_t>{b}));
    EXPECT_EQ(ids(store.list_runs({"LORI", RunStatus::finished, {}, "2025-02-01", ""})), (std::vector<int64_t>{c}));
    EXPECT_EQ(ids(store.runs_of_experiment(e1)), (std::vector<int64_t>{a, b}));
    EXPECT_EQ(ids(store.runs_of_experiment(e2)), (std::vector<int64_t>{c}));
    EXPECT_FALSE(store.run(9999).has_value());
    EXPECT_FALSE(store.experiment(9999).has_value());
    ASSERT_TRUE(store.experiment(e1).has_value());
    EXPECT_EQ(store.experiment(e1)->created_at, "2025-01-01T00:00:00.000Z");
    EXPECT_THROW(store.finish_run(9999, RunStatus::failed, "x"), std::runtime_error);
}

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
    const auto interpolation = store.analysis_points(run_id, "interpolation");
    EXPECT_EQ(interpolation.size(), 3u);
    for (const auto& p : interpolation) EXPECT_EQ(p.analysis, "interpolation");
    EXPECT_TRUE(store.analysis_points(run_id, "no-such-analysis").empty());

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
        listener.on_event(MethodState{0, 5, "magnitude", {1, 2, 3, 4, 5}});
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
    std::this_thread::sleep_for(std::chrono::milliseconds(40));
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
