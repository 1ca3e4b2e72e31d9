// Tests of schema version 3 (variants on runs, newly misclassified samples per class), the
// per-class foundation forgetting, the variant and rank-sweep summaries, and the results export.

#include <gtest/gtest.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "engine/config/dataset_catalog.h"
#include "engine/eval/class_forgetting.h"
#include "engine/store/sweep_summary.h"
#include "engine/store/results_export.h"
#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"
#include "engine/vocabulary/analysis_keys.h"
#include "tests/support/old_schema_database.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

namespace fs = std::filesystem;

using lorica::testing::insert_old_finished_run;
using lorica::testing::TempDir;
using lorica::testing::write_database_of_version;

EvalRow end_row(int after, int task, int64_t correct, int64_t total, HeadMode mode = HeadMode::class_il) {
    return EvalRow{after, task, 0, EvalPhase::end_of_task, mode, correct, total};
}

// A finished run of 2 tasks whose class-IL matrix is R = [[a00, -], [a10, a11]] (percent of 100
// samples) with foundation F(−1) = f_pre, F(0) = f0, F(1) = f1.
int64_t add_run(RunStore& store, int64_t experiment, int variant_index, const std::string& variant, int64_t seed,
                int a00, int a10, int a11, int f_pre, int f0, int f1, double seconds) {
    RunStarted s;
    s.seed = seed;
    s.method = "sequential-lora";
    s.config_json = R"({"data": {"dataset": "fashion-mnist"}, "stream": {"task_incremental": false}})";
    s.num_tasks = 2;
    s.variant = variant;
    s.variant_index = variant_index;
    s.sweep_field = "method.rank";
    s.sweep_value = std::to_string(variant_index + 1);
    const int64_t id = store.insert_run(experiment, s);
    EvaluationDone e;
    e.rows = {end_row(0, 0, a00, 100),
              end_row(1, 0, a10, 100),
              end_row(1, 1, a11, 100),
              end_row(-1, kFoundationTask, f_pre, 100),
              end_row(0, kFoundationTask, f0, 100),
              end_row(1, kFoundationTask, f1, 100)};
    store.insert_evaluation(id, e);
    store.finish_run(id, RunStatus::finished, "", seconds);
    return id;
}

TEST(StoreSchemaV3Test, MigratesAVersion2DatabaseWrittenWithTheVersion2Schema) {
    TempDir dir;
    const std::string path = dir.file("v2.db");
    const int64_t run_id = write_database_of_version(path, 2, [](Database& db) {
        const int64_t run = insert_old_finished_run(db, {.created_at = "2025-05-01T10:00:00.000Z",
                                                         .started_at = "2025-05-01T10:00:01.000Z",
                                                         .ended_at = "2025-05-01T11:00:00.000Z",
                                                         .seed = 7,
                                                         .lorica_version = "0.1.0",
                                                         .torch_version = "2.5.0",
                                                         .num_tasks = 2,
                                                         .total_steps = 20,
                                                         .later_columns = ", notes, seconds",
                                                         .later_values = ", 'n', 12.5"});
        db.exec("INSERT INTO class_eval_rows VALUES(" + std::to_string(run) + ", 0, -1, 3, 40, 50)");
        return run;
    });
    RunStore store = RunStore::open(path);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    const auto run = store.run(run_id);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->seed, 7);
    EXPECT_EQ(run->seconds, 12.5);
    EXPECT_EQ(run->notes, "n");
    EXPECT_EQ(run->variant, "");
    EXPECT_EQ(run->variant_index, 0);
    EXPECT_EQ(run->sweep_field, "");
    EXPECT_EQ(run->sweep_value, "");
    const auto classes = store.class_eval_rows(run_id);
    ASSERT_EQ(classes.size(), 1u);
    EXPECT_EQ(classes[0].row.correct, 40);
    EXPECT_EQ(classes[0].row.newly_wrong, -1);  // NULL: not recorded by version 2
}

TEST(StoreSchemaV3Test, VariantFieldsAndNewlyWrongRoundTrip) {
    RunStore store = RunStore::open(":memory:");
    const int64_t exp = store.insert_experiment(ExperimentStarted{"sweep", "{}", "h", {0}, {"rank=1", "rank=2"}});
    RunStarted s;
    s.method = "sequential-lora";
    s.variant = "rank=2";
    s.variant_index = 1;
    s.sweep_field = "method.rank";
    s.sweep_value = "2";
    const int64_t id = store.insert_run(exp, s);
    EvaluationDone e;
    e.class_rows = {ClassEvalRow{-1, kFoundationTask, 0, 90, 100}, ClassEvalRow{0, kFoundationTask, 0, 70, 100, 25}};
    store.insert_evaluation(id, e);
    const auto run = store.run(id);
    EXPECT_EQ(run->variant, "rank=2");
    EXPECT_EQ(run->variant_index, 1);
    EXPECT_EQ(run->sweep_field, "method.rank");
    EXPECT_EQ(run->sweep_value, "2");
    EXPECT_EQ(store.list_runs()[0].variant, "rank=2");
    const auto rows = store.class_eval_rows(id);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].row.newly_wrong, -1);
    EXPECT_EQ(rows[1].row.newly_wrong, 25);
}

TEST(ClassForgettingTest, PerClassAccuracyDropAndNewlyWrong) {
    // Classes 5 (Sandal) and 7 (Sneaker), 50 test samples each; two tasks.
    std::vector<ClassEvalRow> rows = {
        {-1, kFoundationTask, 5, 45, 50},
        {-1, kFoundationTask, 7, 40, 50},
        {0, kFoundationTask, 5, 30, 50, 16},
        {0, kFoundationTask, 7, 40, 50, 2},
        {1, kFoundationTask, 5, 20, 50, 12},
        {1, kFoundationTask, 7, 41, 50, 0},
        {1, 0, 3, 1, 1},  // another evaluated task: ignored
    };
    const ClassForgettingTable t = foundation_class_forgetting(rows, dataset_class_names(DatasetId::fashion_mnist));
    EXPECT_EQ(t.tasks, 2);
    ASSERT_EQ(t.rows.size(), 2u);
    const auto& sandal = t.rows[0];
    EXPECT_EQ(sandal.class_id, 5);
    EXPECT_EQ(sandal.class_name, "Sandal");
    EXPECT_DOUBLE_EQ(*sandal.pre, 90.0);
    EXPECT_DOUBLE_EQ(*sandal.accuracy[0], 60.0);
    EXPECT_DOUBLE_EQ(*sandal.accuracy[1], 40.0);
    EXPECT_DOUBLE_EQ(*sandal.drop[0], 30.0);
    EXPECT_DOUBLE_EQ(*sandal.drop[1], 50.0);
    EXPECT_EQ(sandal.newly_wrong, (std::vector<int64_t>{16, 12}));
    const auto& sneaker = t.rows[1];
    EXPECT_EQ(sneaker.class_name, "Sneaker");
    EXPECT_DOUBLE_EQ(*sneaker.drop[1], -2.0);  // gained one sample
    const std::string text = format_class_forgetting(t);
    EXPECT_NE(text.find("5 Sandal"), std::string::npos) << text;
    EXPECT_NE(text.find("40.00 (-50.00)"), std::string::npos) << text;
    EXPECT_NE(text.find("16 / 12"), std::string::npos) << text;
    EXPECT_EQ(dataset_class_names(DatasetId::fashion_mnist).size(), 10u);
    EXPECT_EQ(dataset_class_names(DatasetId::fashion_mnist)[9], "Ankle boot");
}

TEST(ClassForgettingTest, MissingPreStreamRowLeavesDropsUnknown) {
    const ClassForgettingTable t = foundation_class_forgetting({{0, kFoundationTask, 2, 10, 20}});
    ASSERT_EQ(t.rows.size(), 1u);
    EXPECT_EQ(t.rows[0].class_name, "2");
    EXPECT_FALSE(t.rows[0].pre.has_value());
    EXPECT_DOUBLE_EQ(*t.rows[0].accuracy[0], 50.0);
    EXPECT_FALSE(t.rows[0].drop[0].has_value());
    EXPECT_TRUE(foundation_class_forgetting({}).empty());
}

TEST(SweepSummaryTest, VariantRowsAggregateTheirSeeds) {
    RunStore store = RunStore::open(":memory:");
    const int64_t exp = store.insert_experiment(ExperimentStarted{"cmp", "{}", "h", {0, 1}, {"a", "b"}});
    // Variant a: Acc = (a10 + a11) / 2 = 70 and 80; variant b: one finished seed, one failed.
    add_run(store, exp, 0, "a", 0, 90, 60, 80, 95, 90, 85, 10.0);
    add_run(store, exp, 0, "a", 1, 90, 80, 80, 95, 93, 91, 20.0);
    add_run(store, exp, 1, "b", 0, 50, 50, 50, 95, 95, 95, 5.0);
    RunStarted failed;
    failed.variant = "b";
    failed.variant_index = 1;
    failed.num_tasks = 2;
    store.finish_run(store.insert_run(exp, failed), RunStatus::failed, "boom", 1.0);

    const auto v = summarize_variants(store, exp);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].label, "a");
    EXPECT_EQ(v[0].finished, 2);
    EXPECT_DOUBLE_EQ(v[0].seconds, 30.0);
    const auto& acc = v[0].metrics.get("acc");
    EXPECT_EQ(acc.n, 2);
    EXPECT_DOUBLE_EQ(*acc.mean, 75.0);
    EXPECT_NEAR(*acc.std, std::sqrt(50.0), 1e-12);  // sample std of {70, 80}
    // forgetting (max): max(R00) − R10 = 30 and 10 → 20 ± 14.14; foundation drop 10 and 4 → 7.
    EXPECT_DOUBLE_EQ(*v[0].metrics.get("forgetting_max").mean, 20.0);
    EXPECT_DOUBLE_EQ(*v[0].metrics.get("foundation_drop").mean, 7.0);
    EXPECT_DOUBLE_EQ(*v[0].metrics.get("bwt").mean, -20.0);
    EXPECT_EQ(v[1].run_ids.size(), 2u);
    EXPECT_EQ(v[1].finished, 1);
    EXPECT_DOUBLE_EQ(*v[1].metrics.get("acc").mean, 50.0);
    EXPECT_DOUBLE_EQ(*v[1].metrics.get("acc").std, 0.0);
    const std::string table = format_variant_table(v);
    EXPECT_NE(table.find("75.00 ± 7.07"), std::string::npos) << table;
    EXPECT_NE(table.find("1/2"), std::string::npos) << table;
    EXPECT_NE(table.find("0:30"), std::string::npos) << table;
}

TEST(SweepSummaryTest, RankSweepPointsAndTable) {
    // R = [[90], [60, 80]], F(−1) = 95, F(1) = 85: downstream forgetting (init) = 90 − 60 = 30,
    // foundation forgetting = 10.
    std::vector<EvalRow> rows = {end_row(0, 0, 90, 100), end_row(1, 0, 60, 100), end_row(1, 1, 80, 100),
                                 end_row(-1, kFoundationTask, 95, 100), end_row(1, kFoundationTask, 85, 100)};
    const auto points = rank_sweep_points(rows, 2, 4.0, HeadMode::class_il);
    ASSERT_EQ(points.size(), 2u);
    EXPECT_EQ(points[0].analysis, AnalysisKey::rank_sweep);
    EXPECT_EQ(points[0].series, kSeriesFoundationForgetting);
    EXPECT_DOUBLE_EQ(points[0].x, 4.0);
    EXPECT_DOUBLE_EQ(points[0].y, 10.0);
    EXPECT_EQ(points[1].series, kSeriesDownstreamForgetting);
    EXPECT_DOUBLE_EQ(points[1].y, 30.0);

    RunStore store = RunStore::open(":memory:");
    const int64_t exp = store.insert_experiment(ExperimentStarted{"sweep", "{}", "h", {0, 1}, {}});
    const int64_t r1 = add_run(store, exp, 0, "rank=1", 0, 90, 60, 80, 95, 90, 85, 1.0);
    const int64_t r2 = add_run(store, exp, 0, "rank=1", 1, 90, 80, 80, 95, 90, 89, 1.0);
    const int64_t r3 = add_run(store, exp, 1, "rank=8", 0, 90, 90, 80, 95, 90, 95, 1.0);
    store.insert_analysis_points(r1, {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 1, 10},
                                      {AnalysisKey::rank_sweep, kSeriesDownstreamForgetting, 1, 30}});
    store.insert_analysis_points(r2, {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 1, 6},
                                      {AnalysisKey::rank_sweep, kSeriesDownstreamForgetting, 1, 10}});
    store.insert_analysis_points(
        r3, {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 8, 0},
             {AnalysisKey::rank_sweep, kSeriesDownstreamForgetting, 8, 0},
             {AnalysisKey::lori_merge, SeriesKey::named(SeriesKey::Kind::cat), 8, 99}});  // another analysis: ignored
    const auto table = rank_sweep_table(store, exp);
    ASSERT_EQ(table.size(), 2u);
    EXPECT_DOUBLE_EQ(table[0].rank, 1.0);
    EXPECT_EQ(table[0].foundation_forgetting.n, 2);
    EXPECT_DOUBLE_EQ(*table[0].foundation_forgetting.mean, 8.0);
    EXPECT_NEAR(*table[0].foundation_forgetting.std, std::sqrt(8.0), 1e-12);
    EXPECT_DOUBLE_EQ(*table[0].downstream_forgetting.mean, 20.0);
    EXPECT_DOUBLE_EQ(table[1].rank, 8.0);
    EXPECT_DOUBLE_EQ(*table[1].downstream_forgetting.mean, 0.0);
    const std::string text = format_rank_sweep_table(table);
    EXPECT_NE(text.find("8.00 ± 2.83"), std::string::npos) << text;
    EXPECT_TRUE(rank_sweep_table(store, exp + 1).empty());
}

TEST(SweepSummaryTest, ASweepCrossedWithVariantsGivesOneCurvePerVariant) {
    EXPECT_EQ(rank_sweep_group("rank=4"), "");
    EXPECT_EQ(rank_sweep_group("tiny-resnet, rank=4"), "tiny-resnet");
    EXPECT_EQ(rank_sweep_group("a, b, rank=16"), "a, b");
    EXPECT_EQ(rank_sweep_group("rankless"), "rankless");
    EXPECT_EQ(rank_sweep_group(""), "");

    RunStore store = RunStore::open(":memory:");
    const int64_t exp = store.insert_experiment(ExperimentStarted{"backbones", "{}", "h", {0}, {}});
    // Variants × sweep: vit at ranks 1 and 4, resnet at rank 1 (stored after the vit runs).
    const int64_t v1 = add_run(store, exp, 0, "vit, rank=1", 0, 90, 60, 80, 95, 90, 85, 1.0);
    const int64_t v4 = add_run(store, exp, 1, "vit, rank=4", 0, 90, 60, 80, 95, 90, 85, 1.0);
    const int64_t r1 = add_run(store, exp, 2, "resnet, rank=1", 0, 90, 60, 80, 95, 90, 85, 1.0);
    store.insert_analysis_points(v1, {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 1, 10}});
    store.insert_analysis_points(v4, {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 4, 20}});
    store.insert_analysis_points(r1, {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 1, 3}});
    const auto table = rank_sweep_table(store, exp);
    ASSERT_EQ(table.size(), 3u);  // rank 1 of the two backbones is not pooled
    EXPECT_EQ(table[0].group, "vit");
    EXPECT_DOUBLE_EQ(table[0].rank, 1.0);
    EXPECT_DOUBLE_EQ(*table[0].foundation_forgetting.mean, 10.0);
    EXPECT_EQ(table[1].group, "vit");
    EXPECT_DOUBLE_EQ(table[1].rank, 4.0);
    EXPECT_EQ(table[2].group, "resnet");
    EXPECT_DOUBLE_EQ(*table[2].foundation_forgetting.mean, 3.0);
    const std::string text = format_rank_sweep_table(table);
    EXPECT_NE(text.find("variant"), std::string::npos) << text;
    EXPECT_NE(text.find("resnet"), std::string::npos) << text;
}

TEST(SweepSummaryTest, RowsFromRunsInMemoryAverageTheSeedsOfAGroup) {
    // What the GUI hands over (a reopened or live experiment's runs): two seeds of one group, a NaN and
    // another analysis's point that do not count, and a second group.
    const std::vector<RankSweepRun> runs = {
        {"vit, rank=4",
         {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 4, 2.0},
          {AnalysisKey::lori_merge, kSeriesFoundationForgetting, 4, 99.0}}},
        {"vit, rank=4",
         {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 4, 6.0},
          {AnalysisKey::rank_sweep, kSeriesDownstreamForgetting, 4, std::nan("")}}},
        {"resnet, rank=4", {{AnalysisKey::rank_sweep, kSeriesFoundationForgetting, 4, 1.0}}}};
    const auto rows = rank_sweep_rows(runs);
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[0].group, "vit");
    EXPECT_EQ(rows[0].foundation_forgetting.n, 2);
    EXPECT_DOUBLE_EQ(*rows[0].foundation_forgetting.mean, 4.0);
    EXPECT_EQ(rows[0].downstream_forgetting.n, 0);
    EXPECT_EQ(rows[1].group, "resnet");
    EXPECT_DOUBLE_EQ(*rows[1].foundation_forgetting.mean, 1.0);
}

// Cell (row, column name) of parsed CSV rows (row 0 = header).
std::string cell(const std::vector<std::vector<std::string>>& rows, size_t row, const std::string& column) {
    for (size_t c = 0; c < rows[0].size(); ++c)
        if (rows[0][c] == column) return rows[row][c];
    ADD_FAILURE() << "no column " << column;
    return {};
}

std::vector<std::vector<std::string>> read_csv(const std::string& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in.good()) << path;
    return parse_csv(in, path);
}

TEST(ResultsExportTest, CsvFilesRoundTripTheStoredNumbers) {
    TempDir dir;
    RunStore store = RunStore::open(dir.file("results.db"));
    const int64_t exp = store.insert_experiment(ExperimentStarted{"cmp", "{}", "h", {0}, {"a"}});
    const int64_t id = add_run(store, exp, 0, "a, \"quoted\"", 0, 91, 63, 77, 95, 90, 85, 12.25);
    store.insert_step_metrics(
        id, {StepMetrics{0, 0, 1, 1, 2.302585, 5e-4, 12.5}, StepMetrics{1, 0, 2, 1, std::nan(""), 1.0 / 3.0, 11.0}});
    store.insert_method_state(id, MethodState{1, 2, StateKey::magnitudes, {0.8, 1.0 / 7.0}});
    store.insert_analysis_points(id, {{AnalysisKey::merge_interpolation, SeriesKey::of_task(0), 0.1, 55.5}});
    EvaluationDone classes;
    classes.class_rows = {ClassEvalRow{-1, kFoundationTask, 9, 48, 50},
                          ClassEvalRow{1, kFoundationTask, 9, 30, 50, 19}};
    store.insert_evaluation(id, classes);

    const ResultsExport results = export_results(store, {id});
    const auto files = write_results(results, dir.file("out"));
    EXPECT_EQ(files.size(), results.tables.size() + 1);

    const auto runs = read_csv(dir.file("out/runs.csv"));
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(cell(runs, 1, "variant"), "a, \"quoted\"");
    EXPECT_EQ(std::stod(cell(runs, 1, "seconds")), 12.25);
    EXPECT_EQ(cell(runs, 1, "sweep_value"), "1");

    // Accuracy matrix: every stored end-of-task cell, in percent, with its counts.
    const auto acc = read_csv(dir.file("out/accuracy_class_il.csv"));
    std::map<std::pair<int, int>, double> stored;
    for (const auto& r : store.eval_rows(id))
        stored[{r.row.after_task, r.row.eval_task}] = 100.0 * r.row.correct / r.row.total;
    ASSERT_EQ(acc.size(), stored.size() + 1);
    for (size_t i = 1; i < acc.size(); ++i) {
        const std::pair<int, int> key{std::stoi(cell(acc, i, "after_task")), std::stoi(cell(acc, i, "eval_task"))};
        ASSERT_TRUE(stored.count(key)) << key.first << "," << key.second;
        EXPECT_EQ(std::stod(cell(acc, i, "accuracy")), stored[key]);
        EXPECT_EQ(cell(acc, i, "total"), "100");
    }
    // No task-IL rows were stored: the task-IL table has only its header.
    EXPECT_EQ(read_csv(dir.file("out/accuracy_task_il.csv")).size(), 1u);

    // Metrics equal those computed from the store.
    const MetricSet m = stored_run_metrics(store, id, HeadMode::class_il);
    const auto metrics = read_csv(dir.file("out/metrics.csv"));
    int checked = 0;
    for (size_t i = 1; i < metrics.size(); ++i) {
        if (cell(metrics, i, "head_mode") != "class_il") continue;
        const auto value = m.value(cell(metrics, i, "metric"));
        const std::string text = cell(metrics, i, "value");
        EXPECT_EQ(text.empty(), !value.has_value()) << cell(metrics, i, "metric");
        if (value) {
            EXPECT_EQ(std::stod(text), *value) << cell(metrics, i, "metric");
        }
        ++checked;
    }
    EXPECT_EQ(checked, static_cast<int>(metric_table().size()));
    EXPECT_DOUBLE_EQ(*m.acc, 70.0);

    const auto loss = read_csv(dir.file("out/loss.csv"));
    ASSERT_EQ(loss.size(), 3u);
    EXPECT_EQ(std::stod(cell(loss, 1, "loss")), 2.302585);
    EXPECT_EQ(cell(loss, 2, "loss"), "");                  // NaN
    EXPECT_EQ(std::stod(cell(loss, 2, "lr")), 1.0 / 3.0);  // 17 digits: exact

    const auto state = read_csv(dir.file("out/method_state.csv"));
    ASSERT_EQ(state.size(), 3u);
    EXPECT_EQ(cell(state, 2, "key"), "magnitudes");
    EXPECT_EQ(cell(state, 2, "index"), "1");
    EXPECT_EQ(std::stod(cell(state, 2, "value")), 1.0 / 7.0);

    const auto analyses = read_csv(dir.file("out/analyses.csv"));
    ASSERT_EQ(analyses.size(), 2u);
    EXPECT_EQ(std::stod(cell(analyses, 1, "y")), 55.5);

    const auto cls = read_csv(dir.file("out/foundation_classes.csv"));
    ASSERT_EQ(cls.size(), 3u);
    EXPECT_EQ(cell(cls, 1, "class_name"), "Ankle boot");
    EXPECT_EQ(cell(cls, 1, "newly_wrong"), "");
    EXPECT_EQ(cell(cls, 2, "newly_wrong"), "19");
    EXPECT_EQ(std::stod(cell(cls, 2, "accuracy")), 60.0);

    const auto variants = read_csv(dir.file("out/variant_metrics.csv"));
    ASSERT_EQ(variants.size(), metric_table().size() + 1);
    EXPECT_EQ(cell(variants, 1, "variant"), "a, \"quoted\"");

    // The JSON document holds the same numbers.
    std::ifstream json_in(dir.file("out/results.json"));
    const auto doc = nlohmann::json::parse(json_in);
    ASSERT_EQ(doc["runs"].size(), 1u);
    EXPECT_EQ(doc["runs"][0]["accuracy"]["class_il"][1][0].get<double>(), 63.0);
    EXPECT_TRUE(doc["runs"][0]["accuracy"]["class_il"][0][1].is_null());
    EXPECT_EQ(doc["runs"][0]["metrics"]["class_il"]["acc"].get<double>(), 70.0);
    EXPECT_TRUE(doc["runs"][0]["loss"][1]["loss"].is_null());
    EXPECT_EQ(doc["runs"][0]["method_state"][0]["values"][1].get<double>(), 1.0 / 7.0);
    EXPECT_EQ(doc["variants"][0]["metrics"]["acc"]["mean"].get<double>(), 70.0);

    EXPECT_THROW(export_results(store, {id + 100}), std::runtime_error);
}

TEST(ResultsExportTest, ParseCsvHandlesQuotesAndLineBreaks) {
    std::istringstream in("a,b\r\n\"x,1\",\"say \"\"hi\"\"\"\n\"two\nlines\",\n");
    const auto rows = parse_csv(in, "mem");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1][0], "x,1");
    EXPECT_EQ(rows[1][1], "say \"hi\"");
    EXPECT_EQ(rows[2][0], "two\nlines");
    EXPECT_EQ(rows[2][1], "");
    std::istringstream bad("a,\"open\n");
    EXPECT_THROW(parse_csv(bad, "mem"), std::runtime_error);
    CsvTable t{"t", {"k", "v"}, {{"a,b", "1"}}};
    std::istringstream back(to_csv(t));
    EXPECT_EQ(parse_csv(back, "mem")[1][0], "a,b");
}

}  // namespace
}  // namespace lorica
