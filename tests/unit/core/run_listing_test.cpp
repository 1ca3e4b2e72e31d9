// Tests of the store's run listing (RunStore::list_run_page) and downsampled step curves
// (RunStore::step_curve): the one-query listing returns the same runs as list_runs and the same final
// accuracy as the per-run metrics path, pages tile the whole listing, filters narrow it; curve buckets
// hold the hand-computed min/max/mean of their steps.

#include <gtest/gtest.h>

#include <cmath>
#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "engine/eval/metrics.h"
#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"
#include "engine/store/sweep_summary.h"
#include "tests/support/old_schema_database.h"
#include "tests/unit/core/store_test_support.h"

namespace lorica {

using namespace store_testing;

namespace {

EvalRow cell(int after, int task, int64_t correct, int64_t total = 100, HeadMode mode = HeadMode::class_il,
             EvalPhase phase = EvalPhase::end_of_task) {
    return EvalRow{after, task, 10 * (after + 1), phase, mode, correct, total};
}

// A database whose runs cover every case of the final-accuracy definition.
struct ListingFixture {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("runs.db"));
    std::vector<int64_t> ids;

    int64_t add(const std::string& method, RunStatus status, const std::string& started, int tasks,
                const std::vector<EvalRow>& rows, int64_t experiment = 0) {
        RunRecord r;
        r.method = method;
        r.status = status;
        r.started_at = started;
        r.num_tasks = tasks;
        r.experiment_id = experiment;
        r.seconds = status == RunStatus::running ? 0.0 : 1.5;
        r.seed = static_cast<int64_t>(ids.size());
        const int64_t id = store.insert_run(r);
        if (!rows.empty()) {
            EvaluationDone e;
            e.rows = rows;
            store.insert_evaluation(id, e);
        }
        ids.push_back(id);
        return id;
    }

    ListingFixture() {
        const int64_t exp = store.insert_experiment(ExperimentStarted{"e", "{}", "h", {0}, {}});
        // 0: complete 3×3 matrix, last row 50, 70, 90 → 70; the (2,1) cell first written as 10, then 70.
        add("lora", RunStatus::finished, "2025-01-10T08:00:00.000Z", 3,
            {cell(0, 0, 95), cell(1, 0, 80), cell(1, 1, 85), cell(2, 0, 50), cell(2, 1, 10), cell(2, 2, 90),
             cell(2, 1, 70), cell(2, 0, 0, 100, HeadMode::task_il),
             cell(1, 2, 5, 100, HeadMode::class_il, EvalPhase::in_task), cell(2, kFoundationTask, 3),
             cell(-1, 1, 1, 100, HeadMode::class_il, EvalPhase::random_init)},
            exp);
        // 1: last row misses a cell → no value.
        add("sd-lora", RunStatus::finished, "2025-01-20T08:00:00.000Z", 2, {cell(0, 0, 90), cell(1, 1, 60)}, exp);
        // 2: failed after task 0 → T = 0, acc = 40.
        add("SD-LoRA", RunStatus::failed, "2025-02-01T00:00:00.000Z", 3, {cell(0, 0, 40), cell(0, 1, 3)});
        // 3: no evaluations.
        add("ft-all", RunStatus::interrupted, "2025-02-01T23:59:59.999Z", 2, {});
        // 4: running, T = 1 so far: (1,0) = 1/3, (1,1) = 2/3 (odd totals) → 50.
        add("lora", RunStatus::running, "2025-02-02T00:00:00.000Z", 4,
            {cell(0, 0, 7, 7), cell(1, 0, 1, 3), cell(1, 1, 2, 3)});
        // 5: a row with total 0 only in the last row → T is the row before.
        add("head", RunStatus::finished, "2025-03-01T00:00:00.000Z", 2,
            {cell(0, 0, 30), cell(1, 0, 0, 0), cell(1, 1, 0, 0)});
        // 6..11: plain finished runs for paging.
        for (int i = 0; i < 6; ++i)
            add(i % 2 ? "lora" : "merged-lora", RunStatus::finished,
                "2025-04-0" + std::to_string(i + 1) + "T12:00:00.000Z", 1, {cell(0, 0, 10 * i)});
    }
};

std::vector<int64_t> ids_of(const RunPage& page) {
    std::vector<int64_t> out;
    for (const auto& r : page.runs) out.push_back(r.id);
    return out;
}

// list_runs' ids for `filter`, newest first (the listing's order).
std::vector<int64_t> reference_ids(const RunStore& store, const RunFilter& filter) {
    std::vector<int64_t> out;
    for (const auto& r : store.list_runs(filter)) out.insert(out.begin(), r.id);
    return out;
}

}  // namespace

TEST(RunListingTest, FinalAccuracyMatchesThePerRunMetricsPath) {
    ListingFixture f;
    RunPageRequest all;
    all.limit = 0;
    const RunPage page = f.store.list_run_page({}, all);
    ASSERT_EQ(page.runs.size(), f.ids.size());
    EXPECT_EQ(page.matching, static_cast<int64_t>(f.ids.size()));
    for (const RunSummary& r : page.runs) {
        const auto expected = stored_run_metrics(f.store, r.id, HeadMode::class_il).acc;
        ASSERT_EQ(r.final_accuracy.has_value(), expected.has_value()) << "run " << r.id;
        if (expected) {
            EXPECT_NEAR(*r.final_accuracy, *expected, 1e-9) << "run " << r.id;
        }
    }
    // Hand-computed values.
    auto acc = [&](std::size_t i) {
        for (const auto& r : page.runs)
            if (r.id == f.ids[i]) return r.final_accuracy;
        return std::optional<double>(-1.0);
    };
    EXPECT_NEAR(*acc(0), (50.0 + 70.0 + 90.0) / 3.0, 1e-12);
    EXPECT_FALSE(acc(1));
    EXPECT_NEAR(*acc(2), 40.0, 1e-12);
    EXPECT_FALSE(acc(3));
    EXPECT_NEAR(*acc(4), 50.0, 1e-12);
    EXPECT_NEAR(*acc(5), 30.0, 1e-12);
    EXPECT_NEAR(*acc(11), 50.0, 1e-12);
}

TEST(RunListingTest, RowsMatchListRuns) {
    ListingFixture f;
    f.store.set_run_notes(f.ids[0], "not part of the summary");
    RunPageRequest all;
    all.limit = 0;
    const RunPage page = f.store.list_run_page({}, all);
    EXPECT_EQ(ids_of(page), reference_ids(f.store, {}));
    for (const RunSummary& s : page.runs) {
        const auto r = f.store.run(s.id);
        ASSERT_TRUE(r);
        EXPECT_EQ(s.uuid, r->uuid);
        EXPECT_EQ(s.experiment_id, r->experiment_id);
        EXPECT_EQ(s.run_index, r->run_index);
        EXPECT_EQ(s.seed, r->seed);
        EXPECT_EQ(s.method, r->method);
        EXPECT_EQ(s.variant, r->variant);
        EXPECT_EQ(s.variant_index, r->variant_index);
        EXPECT_EQ(s.status, r->status);
        EXPECT_EQ(s.started_at, r->started_at);
        EXPECT_EQ(s.ended_at, r->ended_at);
        EXPECT_EQ(s.seconds, r->seconds);
        EXPECT_EQ(s.num_tasks, r->num_tasks);
    }
}

TEST(RunListingTest, PagesTileTheListingNewestFirst) {
    ListingFixture f;
    RunPageRequest all;
    all.limit = 0;
    const auto everything = ids_of(f.store.list_run_page({}, all));
    ASSERT_EQ(everything.size(), 12u);
    EXPECT_EQ(everything.front(), f.ids.back());  // newest first
    std::vector<int64_t> tiled;
    for (int64_t offset = 0; offset < 12; offset += 5) {
        RunPageRequest req;
        req.limit = 5;
        req.offset = offset;
        const RunPage page = f.store.list_run_page({}, req);
        EXPECT_EQ(page.matching, 12);
        EXPECT_EQ(page.runs.size(), offset + 5 <= 12 ? 5u : static_cast<std::size_t>(12 - offset));
        const auto ids = ids_of(page);
        tiled.insert(tiled.end(), ids.begin(), ids.end());
    }
    EXPECT_EQ(tiled, everything);
    RunPageRequest past;
    past.limit = 5;
    past.offset = 40;
    const RunPage beyond = f.store.list_run_page({}, past);
    EXPECT_TRUE(beyond.runs.empty());
    EXPECT_EQ(beyond.matching, 12);
    // Default: the newest 50.
    EXPECT_EQ(RunPageRequest{}.limit, 50);
}

// Every sort key, both directions: the listing's order is list_runs' runs sorted in C++ by the same
// key (ties and missing accuracies: newest first, missing accuracies last), and pages of 5 tile it.
TEST(RunListingTest, EverySortKeyOrdersLikeAReferenceSortAndPagesTileIt) {
    ListingFixture f;
    RunPageRequest all;
    all.limit = 0;
    const std::vector<RunSummary> runs = f.store.list_run_page({}, all).runs;  // accuracies checked above
    using Key = RunSortKey;
    for (Key key : {Key::id, Key::experiment, Key::variant, Key::seed, Key::method, Key::status, Key::started,
                    Key::seconds, Key::final_accuracy})
        for (bool descending : {true, false}) {
            std::vector<RunSummary> expected = runs;
            auto less = [&](const RunSummary& a, const RunSummary& b) {  // strict order of the key alone
                switch (key) {
                    case Key::id:
                        return a.id < b.id;
                    case Key::experiment:
                        return a.experiment_id < b.experiment_id;
                    case Key::variant:
                        return a.variant < b.variant;
                    case Key::seed:
                        return a.seed < b.seed;
                    case Key::method:
                        return a.method < b.method;  // SQLite's BINARY collation = bytes
                    case Key::status:
                        return std::string(to_string(a.status)) < std::string(to_string(b.status));
                    case Key::started:
                        return a.started_at < b.started_at;
                    case Key::seconds:
                        return a.seconds < b.seconds;
                    case Key::final_accuracy:
                        return a.final_accuracy.value_or(0) < b.final_accuracy.value_or(0);
                }
                return false;
            };
            std::stable_sort(expected.begin(), expected.end(), [&](const RunSummary& a, const RunSummary& b) {
                if (key == Key::final_accuracy && a.final_accuracy.has_value() != b.final_accuracy.has_value())
                    return a.final_accuracy.has_value();  // missing last
                if (less(a, b) || less(b, a)) return descending ? less(b, a) : less(a, b);
                return a.id > b.id;
            });
            std::vector<int64_t> expected_ids;
            for (const auto& r : expected) expected_ids.push_back(r.id);
            RunPageRequest whole;
            whole.limit = 0;
            whole.sort = key;
            whole.descending = descending;
            const std::string what = "key " + std::to_string(static_cast<int>(key)) + (descending ? " desc" : " asc");
            EXPECT_EQ(ids_of(f.store.list_run_page({}, whole)), expected_ids) << what;
            std::vector<int64_t> tiled;
            for (int64_t offset = 0; offset < 12; offset += 5) {
                RunPageRequest page = whole;
                page.limit = 5;
                page.offset = offset;
                const RunPage p = f.store.list_run_page({}, page);
                EXPECT_EQ(p.matching, 12) << what;
                for (const auto& r : p.runs) tiled.push_back(r.id);
            }
            EXPECT_EQ(tiled, expected_ids) << what;
        }
    // A filter and a sort together: the filtered subsequence of the sorted listing.
    RunFilter lora;
    lora.method_contains = "lora";
    RunPageRequest by_accuracy;
    by_accuracy.limit = 0;
    by_accuracy.sort = RunSortKey::final_accuracy;
    std::vector<int64_t> expected;
    for (int64_t id : ids_of(f.store.list_run_page({}, by_accuracy)))
        if (f.store.run(id)->method.find("lora") != std::string::npos ||
            f.store.run(id)->method.find("LoRA") != std::string::npos)
            expected.push_back(id);
    EXPECT_EQ(ids_of(f.store.list_run_page(lora, by_accuracy)), expected);
}

TEST(RunListingTest, FiltersAgreeWithListRuns) {
    ListingFixture f;
    std::vector<RunFilter> filters(7);
    filters[0].method_contains = "sd-lora";  // case-insensitive: sd-lora and SD-LoRA
    filters[1].status = RunStatus::finished;
    filters[2].since = "2025-02-01";
    filters[3].until = "2025-02-01";  // the whole day included
    filters[4].since = "2025-01-15";
    filters[4].until = "2025-02-01T12";
    filters[5].experiment_id = 1;
    filters[6].method_contains = "LORA";
    filters[6].status = RunStatus::finished;
    filters[6].since = "2025-04-03";
    const std::vector<std::size_t> expected_sizes = {2, 9, 10, 4, 2, 2, 4};
    RunPageRequest all;
    all.limit = 0;
    for (std::size_t i = 0; i < filters.size(); ++i) {
        const RunPage page = f.store.list_run_page(filters[i], all);
        EXPECT_EQ(ids_of(page), reference_ids(f.store, filters[i])) << "filter " << i;
        EXPECT_EQ(page.runs.size(), expected_sizes[i]) << "filter " << i;
        EXPECT_EQ(page.matching, static_cast<int64_t>(expected_sizes[i])) << "filter " << i;
    }
}

// ---- downsampled curves -----------------------------------------------------------------------------

TEST(StepCurveTest, BucketsHoldTheHandComputedMinMaxMean) {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("c.db"));
    const int64_t run = store.insert_run(RunRecord{});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // Steps 0..9, W = 10; 3 buckets: floor(s·3/10) → {0,1,2,3}, {4,5,6}, {7,8,9}.
    const std::vector<double> loss = {5.0, 3.0, 4.0, 6.0, 2.0, nan, 1.0, 7.0, 0.5, 9.0};
    std::vector<StepMetrics> steps;
    for (int s = 0; s < 10; ++s)
        steps.push_back({0, 0, s, s, loss[static_cast<std::size_t>(s)], 1e-3 * (s + 1), 10.0 + s});
    store.insert_step_metrics(run, steps);

    const auto c = store.step_curve(run, StepSeries::loss, 3);
    ASSERT_EQ(c.size(), 3u);
    EXPECT_EQ(c[0].first_step, 0);
    EXPECT_EQ(c[0].last_step, 3);
    EXPECT_EQ(c[0].points, 4);
    EXPECT_EQ(c[0].min, 3.0);
    EXPECT_EQ(c[0].max, 6.0);
    EXPECT_DOUBLE_EQ(c[0].mean, 4.5);
    EXPECT_EQ(c[1].first_step, 4);
    EXPECT_EQ(c[1].last_step, 6);
    EXPECT_EQ(c[1].points, 3);  // the NaN step counts as a point, not as a value
    EXPECT_EQ(c[1].min, 1.0);
    EXPECT_EQ(c[1].max, 2.0);
    EXPECT_DOUBLE_EQ(c[1].mean, 1.5);
    EXPECT_EQ(c[2].first_step, 7);
    EXPECT_EQ(c[2].last_step, 9);
    EXPECT_EQ(c[2].min, 0.5);
    EXPECT_EQ(c[2].max, 9.0);
    EXPECT_DOUBLE_EQ(c[2].mean, 16.5 / 3.0);

    // Another series: the step time 10..19 in the same buckets.
    const auto ms = store.step_curve(run, StepSeries::step_ms, 3);
    ASSERT_EQ(ms.size(), 3u);
    EXPECT_EQ(ms[1].min, 14.0);
    EXPECT_EQ(ms[1].max, 16.0);

    // More buckets than steps: one bucket per step.
    const auto fine = store.step_curve(run, StepSeries::loss, 2000);
    ASSERT_EQ(fine.size(), 10u);
    for (int s = 0; s < 10; ++s) {
        EXPECT_EQ(fine[static_cast<std::size_t>(s)].first_step, s);
        EXPECT_EQ(fine[static_cast<std::size_t>(s)].points, 1);
        expect_same_double(loss[static_cast<std::size_t>(s)], fine[static_cast<std::size_t>(s)].max);
    }
    EXPECT_THROW(store.step_curve(run, StepSeries::loss, 0), std::invalid_argument);
    EXPECT_TRUE(store.step_curve(run + 1).empty());
}

TEST(StepCurveTest, GapsLeaveNoEmptyBucketsAndOtherRunsStayOut) {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("c.db"));
    const int64_t a = store.insert_run(RunRecord{});
    const int64_t b = store.insert_run(RunRecord{});
    const double nan = std::numeric_limits<double>::quiet_NaN();
    // Run a: steps 100..103 and 196..199 (W = 100); 4 buckets of 25 steps → buckets 0 and 3 only.
    std::vector<StepMetrics> sa;
    for (int s : {100, 101, 102, 103}) sa.push_back({0, 0, s, s, static_cast<double>(s - 100), 0.0, 0.0});
    for (int s : {196, 197, 198, 199}) sa.push_back({0, 0, s, s, nan, 0.0, 0.0});
    store.insert_step_metrics(a, sa);
    store.insert_step_metrics(b, {{0, 0, 150, 1, -100.0, 0.0, 0.0}});  // inside a's gap, another run
    const auto c = store.step_curve(a, StepSeries::loss, 4);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].first_step, 100);
    EXPECT_EQ(c[0].last_step, 103);
    EXPECT_EQ(c[0].min, 0.0);
    EXPECT_EQ(c[0].max, 3.0);
    EXPECT_EQ(c[1].first_step, 196);
    EXPECT_EQ(c[1].points, 4);
    EXPECT_TRUE(std::isnan(c[1].min) && std::isnan(c[1].max) && std::isnan(c[1].mean));
}

TEST(StepCurveTest, EveryStepLandsInExactlyOneBucket) {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("c.db"));
    const int64_t run = store.insert_run(RunRecord{});
    std::vector<StepMetrics> steps;
    for (int s = 0; s < 1237; ++s) steps.push_back({0, 0, 5 + s, s, std::sin(0.01 * s) * s, 0.0, 0.0});
    store.insert_step_metrics(run, steps);
    for (int buckets : {1, 7, 100, 1236, 1237}) {
        const auto c = store.step_curve(run, StepSeries::loss, buckets);
        ASSERT_EQ(c.size(), static_cast<std::size_t>(buckets));
        int64_t points = 0, next = 5;
        for (const auto& b : c) {
            EXPECT_EQ(b.first_step, next);
            next = b.last_step + 1;
            points += b.points;
            double lo = 1e300, hi = -1e300;
            for (int64_t s = b.first_step; s <= b.last_step; ++s) {
                lo = std::min(lo, steps[static_cast<std::size_t>(s - 5)].loss);
                hi = std::max(hi, steps[static_cast<std::size_t>(s - 5)].loss);
            }
            EXPECT_EQ(b.min, lo);
            EXPECT_EQ(b.max, hi);
        }
        EXPECT_EQ(points, 1237);
        EXPECT_EQ(next, 5 + 1237);
    }
}

}  // namespace lorica

namespace lorica {

using namespace store_testing;

namespace {

// min/max/points/mean of the losses of steps first..last, straight from the values written.
struct Expected {
    double min = 1e300, max = -1e300, sum = 0;
    int64_t points = 0, n = 0;
};
Expected brute(const std::vector<StepMetrics>& steps, int64_t first, int64_t last) {
    Expected e;
    for (const auto& s : steps) {
        if (s.step < first || s.step > last) continue;
        ++e.points;
        if (std::isnan(s.loss)) continue;
        e.min = std::min(e.min, s.loss);
        e.max = std::max(e.max, s.loss);
        e.sum += s.loss;
        ++e.n;
    }
    return e;
}

}  // namespace

TEST(StepCurveTest, LongRunsReadWholeBlocks) {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("c.db"));
    const int64_t run = store.insert_run(RunRecord{});
    std::vector<StepMetrics> steps;
    for (int s = 0; s < 1280; ++s) {
        const double loss = s >= 1216 ? std::numeric_limits<double>::quiet_NaN() : std::fmod(37.0 * s, 101.0) / 10.0;
        steps.push_back({0, 0, s, s, loss, 0.0, 0.0});
    }
    // Batches of 100 steps: blocks straddle batches, so the store must fold partial blocks together.
    for (std::size_t i = 0; i < steps.size(); i += 100)
        store.insert_step_metrics(
            run, std::vector<StepMetrics>(steps.begin() + static_cast<long>(i),
                                          steps.begin() + static_cast<long>(std::min(i + 100, steps.size()))));
    // W = 1280 ≥ 4·64·3: 20 blocks, block k in bucket floor(3k/20): blocks 0–6, 7–13, 14–19.
    const auto c = store.step_curve(run, StepSeries::loss, 3);
    ASSERT_EQ(c.size(), 3u);
    const int64_t edges[3][2] = {{0, 447}, {448, 895}, {896, 1279}};
    for (int b = 0; b < 3; ++b) {
        EXPECT_EQ(c[static_cast<std::size_t>(b)].first_step, edges[b][0]);
        EXPECT_EQ(c[static_cast<std::size_t>(b)].last_step, edges[b][1]);
        const Expected e = brute(steps, edges[b][0], edges[b][1]);
        EXPECT_EQ(c[static_cast<std::size_t>(b)].points, e.points);
        EXPECT_EQ(c[static_cast<std::size_t>(b)].min, e.min);
        EXPECT_EQ(c[static_cast<std::size_t>(b)].max, e.max);
        EXPECT_NEAR(c[static_cast<std::size_t>(b)].mean, e.sum / static_cast<double>(e.n), 1e-12);
    }
    EXPECT_EQ(c[2].points, 384);  // the 64 NaN steps count as points, not values
    // Fewer steps per bucket than the block path needs: the exact per-step cut.
    const auto fine = store.step_curve(run, StepSeries::loss, 5);  // 1280 < 4·64·5
    ASSERT_EQ(fine.size(), 5u);
    EXPECT_EQ(fine[1].first_step, 256);
    EXPECT_EQ(fine[1].last_step, 511);
}

TEST(StepCurveTest, MigrationBackfillsTheBlocksOfOldRuns) {
    TempDir dir;
    const std::string path = dir.file("v5.db");
    std::vector<StepMetrics> steps;
    lorica::testing::write_database_of_version(path, 5, [&steps](Database& db) {
        db.exec(
            "INSERT INTO runs(started_at, uuid) VALUES('2025-01-01T00:00:00.000Z', "
            "'0f1e2d3c-4b5a-4978-8a69-5b4c3d2e1f00')");
        Transaction tx(db);
        Statement st(db,
                     "INSERT INTO step_metrics(run_id, task_index, epoch, step, step_in_task, loss, lr, step_ms) "
                     "VALUES(1, 0, 0, ?, ?, ?, 0, 0)");
        for (int s = 10; s < 2058; ++s) {
            steps.push_back({0, 0, s, s, std::sin(0.37 * s) * 3.0, 0.0, 0.0});
            st.bind_int64(1, s).bind_int64(2, s).bind_double(3, steps.back().loss);
            st.execute();
        }
        tx.commit();
    });
    RunStore store = RunStore::open(path);
    // Steps 10..2057: blocks 0..32 (K = 33), B = 2 (W = 2048 ≥ 512): blocks 0–16 and 17–32.
    const auto c = store.step_curve(1, StepSeries::loss, 2);
    ASSERT_EQ(c.size(), 2u);
    EXPECT_EQ(c[0].first_step, 10);
    EXPECT_EQ(c[0].last_step, 17 * 64 - 1);
    EXPECT_EQ(c[1].first_step, 17 * 64);
    EXPECT_EQ(c[1].last_step, 2057);
    for (const auto& b : c) {
        const Expected e = brute(steps, b.first_step, b.last_step);
        EXPECT_EQ(b.points, e.points);
        EXPECT_EQ(b.min, e.min);
        EXPECT_EQ(b.max, e.max);
    }
}

}  // namespace lorica
