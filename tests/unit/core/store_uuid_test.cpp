// Tests of run and experiment UUIDs (engine/store/uuid.h): their format, the migration that adds and
// backfills them on an older database, the store writing one per run, and experiments shared by UUID.

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"
#include "engine/store/store_listener.h"
#include "engine/store/uuid.h"
#include "tests/support/old_schema_database.h"
#include "tests/unit/core/store_test_support.h"

namespace lorica {

using namespace store_testing;

namespace {

// Version 4, variant 10 (the format new_uuid and the migration's SQL both promise).
bool is_uuid_v4(const std::string& u) {
    return is_uuid(u) && u[14] == '4' && std::string("89ab").find(u[19]) != std::string::npos &&
           u.find_first_of("ABCDEF") == std::string::npos;
}

}  // namespace

TEST(UuidTest, NewUuidsAreVersion4AndDistinct) {
    std::set<std::string> seen;
    for (int i = 0; i < 20000; ++i) {
        const std::string u = new_uuid();
        ASSERT_TRUE(is_uuid_v4(u)) << u;
        seen.insert(u);
    }
    EXPECT_EQ(seen.size(), 20000u);
}

TEST(UuidTest, RecognisesTheLayout) {
    EXPECT_TRUE(is_uuid("123e4567-e89b-12d3-a456-426614174000"));
    EXPECT_TRUE(is_uuid("123E4567-E89B-12D3-A456-426614174000"));
    EXPECT_FALSE(is_uuid(""));
    EXPECT_FALSE(is_uuid("123e4567e89b12d3a456426614174000"));
    EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400"));
    EXPECT_FALSE(is_uuid("123e4567-e89b-12d3-a456-42661417400g"));
    EXPECT_FALSE(is_uuid("123e4567-e89b-12d3a-456-426614174000"));
}

TEST(UuidMigrationTest, BackfillsEveryOldRunAndExperimentAndKeepsTheRest) {
    TempDir dir;
    const std::string path = dir.file("v3.db");
    lorica::testing::write_database_of_version(path, 3, [](Database& db) {
        for (int e = 0; e < 3; ++e)
            db.exec("INSERT INTO experiments(name, created_at) VALUES('exp" + std::to_string(e) + "', '2025-01-0" +
                    std::to_string(e + 1) + "T00:00:00.000Z')");
        for (int r = 0; r < 50; ++r)
            db.exec("INSERT INTO runs(experiment_id, seed, method, started_at, status, host, pid, variant) VALUES(" +
                    std::to_string(1 + r % 3) + ", " + std::to_string(1000 + r) +
                    ", 'lora', '2025-02-01T00:00:00.000Z', "
                    "'finished', 'elsewhere', 1, 'v" +
                    std::to_string(r % 2) + "')");
    });
    RunStore store = RunStore::open(path);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    const auto runs = store.list_runs();
    ASSERT_EQ(runs.size(), 50u);
    std::set<std::string> uuids;
    for (std::size_t i = 0; i < runs.size(); ++i) {
        EXPECT_TRUE(is_uuid_v4(runs[i].uuid)) << runs[i].uuid;
        uuids.insert(runs[i].uuid);
        EXPECT_EQ(runs[i].seed, 1000 + static_cast<int64_t>(i));
        EXPECT_EQ(runs[i].experiment_id, 1 + static_cast<int64_t>(i % 3));
        EXPECT_EQ(runs[i].variant, "v" + std::to_string(i % 2));
        EXPECT_EQ(runs[i].status, RunStatus::finished);
    }
    const auto experiments = store.list_experiments();
    ASSERT_EQ(experiments.size(), 3u);
    for (const auto& e : experiments) {
        EXPECT_TRUE(is_uuid_v4(e.uuid)) << e.uuid;
        uuids.insert(e.uuid);
    }
    EXPECT_EQ(uuids.size(), 53u);
    // Lookups by UUID find the same rows.
    EXPECT_EQ(store.run_by_uuid(runs[17].uuid)->id, runs[17].id);
    EXPECT_EQ(store.experiment_by_uuid(experiments[2].uuid)->name, "exp2");
    EXPECT_FALSE(store.run_by_uuid(new_uuid()));

    // The backfill is stable: reopening does not change them.
    RunStore again = RunStore::open(path);
    EXPECT_EQ(again.run(runs[0].id)->uuid, runs[0].uuid);

    // UUIDs are unique by index: a duplicate is refused by SQLite.
    RunRecord duplicate;
    duplicate.uuid = runs[3].uuid;
    EXPECT_THROW(store.insert_run(duplicate), DatabaseError);
}

TEST(UuidMigrationTest, TheStoreWritesAUuidForEveryNewRun) {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("r.db"));
    const int64_t a = store.insert_run(0, RunStarted{});
    const int64_t b = store.insert_run(RunRecord{});
    RunRecord given;
    given.uuid = "0f1e2d3c-4b5a-4978-8a69-5b4c3d2e1f00";
    const int64_t c = store.insert_run(given);
    EXPECT_TRUE(is_uuid_v4(store.run(a)->uuid));
    EXPECT_TRUE(is_uuid_v4(store.run(b)->uuid));
    EXPECT_NE(store.run(a)->uuid, store.run(b)->uuid);
    EXPECT_EQ(store.run(c)->uuid, given.uuid);
    RunRecord bad;
    bad.uuid = "run-1";
    const std::string msg = error_of([&] { store.insert_run(bad); });
    EXPECT_NE(msg.find("run-1"), std::string::npos) << msg;
    EXPECT_EQ(store.list_runs().size(), 3u);
}

TEST(UuidMigrationTest, JobsOfOneSweepShareTheirExperiment) {
    TempDir dir;
    const std::string path = dir.file("r.db");
    const std::string sweep = new_uuid();
    auto store = std::make_shared<RunStore>(RunStore::open(path));
    std::vector<int64_t> experiment_ids;
    for (int job = 0; job < 2; ++job) {
        StoreListenerOptions options;
        options.experiment_uuid = sweep;
        StoreListener listener(store, options);
        listener.on_event(ExperimentStarted{"sweep", "{}", "h", {1, 2}, {}});
        RunStarted run;
        run.run_index = job;
        run.seed = job + 1;
        listener.on_event(run);
        listener.on_event(RunFinished{RunStatus::finished, "", 1.0});
        listener.on_event(ExperimentFinished{RunStatus::finished});
        experiment_ids.push_back(listener.experiment_id());
    }
    EXPECT_EQ(experiment_ids[0], experiment_ids[1]);
    ASSERT_EQ(store->list_experiments().size(), 1u);
    EXPECT_EQ(store->list_experiments()[0].uuid, sweep);
    EXPECT_EQ(store->runs_of_experiment(experiment_ids[0]).size(), 2u);
    // Without a UUID every ExperimentStarted is a new experiment.
    StoreListener plain(store);
    plain.on_event(ExperimentStarted{"other", "{}", "h", {1}, {}});
    EXPECT_NE(plain.experiment_id(), experiment_ids[0]);
    EXPECT_TRUE(is_uuid_v4(store->experiment(plain.experiment_id())->uuid));
    // A malformed experiment UUID is refused, naming it.
    const std::string msg = error_of([&] { store->insert_experiment(ExperimentStarted{}, {}, "sweep-7"); });
    EXPECT_NE(msg.find("sweep-7"), std::string::npos) << msg;
}

}  // namespace lorica
