// Tests of the SQLite results store: the RAII wrapper, schema migrations, RunStore writers and
// readers and crash recovery (interrupted runs). The StoreListener: store_listener_test.cpp.

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
#include "tests/support/old_schema_database.h"
#include "tests/unit/core/store_test_support.h"

namespace lorica {

using namespace store_testing;
using lorica::testing::insert_old_finished_run;    // tests/support/old_schema_database.h
using lorica::testing::write_database_of_version;  // tests/support/old_schema_database.h

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
    migrate(db);     // no-op
    migrate(db, 1);  // no downgrade
    EXPECT_EQ(schema_version(db), latest_schema_version());
    EXPECT_THROW(migrate(db, latest_schema_version() + 1), std::invalid_argument);
}

TEST(RunStoreTest, MigratesAVersion1DatabaseAndKeepsItsRuns) {
    TempDir dir;
    const std::string path = dir.file("old.db");
    const int64_t run_id = write_database_of_version(path, 1, [](Database& db) {
        const int64_t run = insert_old_finished_run(db, {.created_at = "2024-05-01T10:00:00.000Z",
                                                         .started_at = "2024-05-01T10:00:01.000Z",
                                                         .ended_at = "2024-05-01T11:00:00.000Z",
                                                         .seed = 1993,
                                                         .lorica_version = "0.0.1",
                                                         .torch_version = "2.3.0",
                                                         .num_tasks = 5,
                                                         .total_steps = 500});
        db.exec("INSERT INTO eval_rows VALUES(" + std::to_string(run) +
                ", 0, 0, 100, 'end_of_task', 'class_il', 90, 100)");
        db.exec(
            "INSERT INTO tasks(run_id, task_index, name, classes_json, domain, train_samples, test_samples) "
            "VALUES(" +
            std::to_string(run) + ", 0, 't0', '[1,2]', 'identity', 10, 5)");
        return run;
    });
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
    store.insert_analysis_points(run_id, {{AnalysisKey::merge_interpolation, SeriesKey::of_task(0), 0.5, 0.7}});
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
        store.insert_evaluation(
            dead_run, EvaluationDone{{EvalRow{0, 0, 10, EvalPhase::end_of_task, HeadMode::class_il, 7, 10}}, {}});
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

}  // namespace lorica
