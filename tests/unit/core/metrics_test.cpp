// Accuracy matrix and continual-learning metrics (engine/eval/accuracy_matrix.h, engine/eval/metrics.h).
// Every expected value is computed by hand in the comment next to it.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "engine/eval/accuracy_matrix.h"
#include "engine/eval/metrics.h"

namespace lorica {
namespace {

constexpr double kTol = 1e-9;

// A matrix from percentages, row t = R[t][0..t].
AccuracyMatrix percent_matrix(const std::vector<std::vector<double>>& rows) {
    AccuracyMatrix matrix(static_cast<int>(rows.size()));
    for (size_t t = 0; t < rows.size(); ++t)
        for (size_t j = 0; j < rows[t].size(); ++j)
            matrix.set(static_cast<int>(t), static_cast<int>(j), AccuracyCell::from_percent(rows[t][j]));
    return matrix;
}

EvalRow row(EvalPhase phase, int after_task, int eval_task, int64_t correct, int64_t total, int64_t step = 0,
            HeadMode mode = HeadMode::class_il) {
    EvalRow r;
    r.phase = phase;
    r.after_task = after_task;
    r.eval_task = eval_task;
    r.correct = correct;
    r.total = total;
    r.step = step;
    r.head_mode = mode;
    return r;
}

AccuracyMatrix parse_csv(const std::string& text) {
    std::istringstream in(text);
    return AccuracyMatrix::from_percent_csv(in, "paper.csv");
}

// The error message of parsing `text`, or "" when it parses.
std::string csv_error(const std::string& text, int* line = nullptr, int* column = nullptr) {
    try {
        parse_csv(text);
    } catch (const AccuracyCsvError& e) {
        if (line) *line = e.line();
        if (column) *column = e.column();
        return e.what();
    }
    return "";
}

// ---- matrix metrics -----------------------------------------------------------------------------

TEST(Metrics, ThreeTaskExample) {
    // R = [[90], [80, 70], [60, 50, 95]], T = 2
    const auto m = compute_metrics(percent_matrix({{90}, {80, 70}, {60, 50, 95}}));
    EXPECT_EQ(m.tasks_seen, 3);
    // Acc = (60 + 50 + 95) / 3 = 205 / 3 = 68.333...
    EXPECT_NEAR(*m.acc, 205.0 / 3.0, kTol);
    // Acc(0) = 90, Acc(1) = (80 + 70) / 2 = 75, Acc(2) = 68.333; AAA = (90 + 75 + 68.333) / 3 = 77.777...
    ASSERT_EQ(m.acc_after_task.size(), 3u);
    EXPECT_NEAR(*m.acc_after_task[1], 75.0, kTol);
    EXPECT_NEAR(*m.aaa, (90.0 + 75.0 + 205.0 / 3.0) / 3.0, kTol);
    EXPECT_NEAR(*m.aaa, 77.7777777778, 1e-9);
    // No in-task points: anytime = AAA.
    EXPECT_NEAR(*m.anytime, *m.aaa, kTol);
    // Forgetting max: j=0: max(R00 = 90, R10 = 80) − R20 = 90 − 60 = 30; j=1: max(R11 = 70) − R21 = 70 − 50 = 20;
    // mean = (30 + 20) / 2 = 25. Initial-based: (90 − 60) + (70 − 50) = 50, / 2 = 25 (the same here).
    EXPECT_NEAR(*m.forgetting_max, 25.0, kTol);
    EXPECT_NEAR(*m.forgetting_initial, 25.0, kTol);
    // BWT = ((60 − 90) + (50 − 70)) / 2 = −25.
    EXPECT_NEAR(*m.bwt, -25.0, kTol);
    // Percentages only: no counts, no before-task/random-init/foundation cells.
    EXPECT_FALSE(m.acc_w);
    EXPECT_FALSE(m.fwt);
    EXPECT_FALSE(m.foundation_pre);
    EXPECT_FALSE(m.foundation_final);
    EXPECT_FALSE(m.foundation_drop);
}

TEST(Metrics, MaxBasedForgettingDiffersFromInitialBased) {
    // R = [[70], [85, 60], [50, 40, 90]]: task 0 improved after task 1 (R10 = 85 > R00 = 70).
    const auto matrix = percent_matrix({{70}, {85, 60}, {50, 40, 90}});
    // j=0: max(70, 85) − 50 = 35 (max-based) vs 70 − 50 = 20 (initial-based); j=1: 60 − 40 = 20 in both.
    EXPECT_NEAR(*forgetting_max_of_task(matrix, 0), 35.0, kTol);
    EXPECT_NEAR(*forgetting_initial_of_task(matrix, 0), 20.0, kTol);
    EXPECT_FALSE(forgetting_max_of_task(matrix, 2));  // j = T: not forgotten yet
    // max-based: (35 + 20) / 2 = 27.5; initial-based: (20 + 20) / 2 = 20.
    EXPECT_NEAR(*forgetting_max(matrix), 27.5, kTol);
    EXPECT_NEAR(*forgetting_initial(matrix), 20.0, kTol);
    // BWT = ((50 − 70) + (40 − 60)) / 2 = −20.
    EXPECT_NEAR(*backward_transfer(matrix), -20.0, kTol);
    // Acc = (50 + 40 + 90) / 3 = 60.
    EXPECT_NEAR(*final_accuracy(matrix), 60.0, kTol);
}

TEST(Metrics, SingleTaskHasNoForgettingOrTransfer) {
    const auto m = compute_metrics(percent_matrix({{80}}));
    EXPECT_NEAR(*m.acc, 80.0, kTol);
    EXPECT_NEAR(*m.aaa, 80.0, kTol);
    EXPECT_FALSE(m.forgetting_max);
    EXPECT_FALSE(m.forgetting_initial);
    EXPECT_FALSE(m.bwt);
    EXPECT_FALSE(m.fwt);
}

TEST(Metrics, EmptyMatrixComputesNothing) {
    const auto m = compute_metrics(AccuracyMatrix(3));
    EXPECT_EQ(m.tasks_seen, 0);
    for (const auto& info : metric_table()) EXPECT_FALSE(m.value(info.key)) << info.key;
}

TEST(Metrics, MissingCellMakesMatrixMetricsNotComputable) {
    // R[1][0] absent: Acc(1), AAA and forgetting of task 0 read it (max-based reads R[0][0], R[1][0]).
    AccuracyMatrix matrix(3);
    matrix.set(0, 0, AccuracyCell::from_percent(90));
    matrix.set(1, 1, AccuracyCell::from_percent(70));
    for (int j = 0; j < 3; ++j) matrix.set(2, j, AccuracyCell::from_percent(std::vector<double>{60, 50, 95}[j]));
    EXPECT_NEAR(*final_accuracy(matrix), 205.0 / 3.0, kTol);  // the final row is complete
    EXPECT_FALSE(accuracy_after_task(matrix, 1));
    EXPECT_FALSE(average_incremental_accuracy(matrix));
    EXPECT_FALSE(forgetting_max(matrix));
    // Initial-based reads only R[j][j] and R[T][j]: (90 − 60 + 70 − 50) / 2 = 25.
    EXPECT_NEAR(*forgetting_initial(matrix), 25.0, kTol);
}

TEST(Metrics, RunInProgressUsesLastFinishedTask) {
    // 3 tasks planned, 2 finished: T = 1. R = [[90], [80, 70]].
    AccuracyMatrix matrix(3);
    matrix.set(0, 0, AccuracyCell::from_percent(90));
    matrix.set(1, 0, AccuracyCell::from_percent(80));
    matrix.set(1, 1, AccuracyCell::from_percent(70));
    EXPECT_EQ(matrix.final_task(), 1);
    // Acc = (80 + 70) / 2 = 75; forgetting = 90 − 80 = 10.
    EXPECT_NEAR(*final_accuracy(matrix), 75.0, kTol);
    EXPECT_NEAR(*forgetting_max(matrix), 10.0, kTol);
}

// ---- metrics from evaluation rows ---------------------------------------------------------------

TEST(Metrics, WeightedAccuracyWithUnequalCounts) {
    // Final row counts: task 0 60/100 (60 %), task 1 100/200 (50 %), task 2 19/20 (95 %).
    std::vector<EvalRow> rows = {
        row(EvalPhase::end_of_task, 0, 0, 90, 100),  row(EvalPhase::end_of_task, 1, 0, 80, 100),
        row(EvalPhase::end_of_task, 1, 1, 140, 200), row(EvalPhase::end_of_task, 2, 0, 60, 100),
        row(EvalPhase::end_of_task, 2, 1, 100, 200), row(EvalPhase::end_of_task, 2, 2, 19, 20),
    };
    const auto m = compute_metrics(AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il));
    // Acc = (60 + 50 + 95) / 3 = 68.333...
    EXPECT_NEAR(*m.acc, 205.0 / 3.0, kTol);
    // Acc_w = (60 + 100 + 19) / (100 + 200 + 20) = 179 / 320 = 55.9375 %.
    EXPECT_NEAR(*m.acc_w, 55.9375, kTol);
    // Same matrix as ThreeTaskExample (R[1][1] = 140/200 = 70 %): forgetting 25.
    EXPECT_NEAR(*m.forgetting_max, 25.0, kTol);
}

TEST(Metrics, ForwardTransferFromBeforeTaskAndRandomInit) {
    std::vector<EvalRow> rows = {
        row(EvalPhase::end_of_task, 0, 0, 90, 100), row(EvalPhase::end_of_task, 1, 0, 80, 100),
        row(EvalPhase::end_of_task, 1, 1, 70, 100), row(EvalPhase::end_of_task, 2, 0, 60, 100),
        row(EvalPhase::end_of_task, 2, 1, 50, 100), row(EvalPhase::end_of_task, 2, 2, 95, 100),
    };
    // Without R_rand: not computable.
    EXPECT_FALSE(forward_transfer(AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il)));

    // R[-1][0] = 10 %, R[0][1] = 20 %, R[1][2] = 15 %; R_rand = 10 %, 25/200 = 12.5 %, 5 %.
    rows.push_back(row(EvalPhase::before_task, -1, 0, 10, 100));
    rows.push_back(row(EvalPhase::before_task, 0, 1, 20, 100));
    rows.push_back(row(EvalPhase::before_task, 1, 2, 15, 100));
    rows.push_back(row(EvalPhase::random_init, -1, 1, 25, 200));
    // Only j = 1 has both: FWT = 20 − 12.5 = 7.5.
    EXPECT_NEAR(*forward_transfer(AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il)), 7.5, kTol);

    rows.push_back(row(EvalPhase::random_init, -1, 0, 10, 100));
    rows.push_back(row(EvalPhase::random_init, -1, 2, 5, 100));
    // FWT = ((10 − 10) + (20 − 12.5) + (15 − 5)) / 3 = (0 + 7.5 + 10) / 3 = 5.8333...
    const auto matrix = AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il);
    EXPECT_NEAR(*forward_transfer(matrix), 17.5 / 3.0, kTol);
    EXPECT_NEAR(matrix.before_task(1)->percent, 20.0, kTol);
    EXPECT_NEAR(matrix.random_init(1)->percent, 12.5, kTol);
    // The task-IL matrix of the same rows has none of them.
    EXPECT_FALSE(forward_transfer(AccuracyMatrix::from_eval_rows(rows, HeadMode::task_il)));
}

TEST(Metrics, AnytimeAccuracyWithInTaskPoints) {
    // Two tasks; evaluation points in step order:
    //   step  5  in task 0:      task 0 = 50                    → 50
    //   step 10  end of task 0:  R[0] = [80]                    → 80
    //   step 15  in task 1:      task 0 = 70, task 1 = 40       → 55
    //   step 20  in task 1:      task 0 = 65, task 1 = 75       → 70
    //   step 30  in task 1:      10, 10 — same step as the end of task 1: the same model, counted once there
    //   step 30  end of task 1:  R[1] = [60, 90]                → 75
    // anytime = (50 + 80 + 55 + 70 + 75) / 5 = 330 / 5 = 66;  AAA = (80 + 75) / 2 = 77.5.
    const std::vector<EvalRow> rows = {
        row(EvalPhase::in_task, -1, 0, 50, 100, 5),     row(EvalPhase::end_of_task, 0, 0, 80, 100, 10),
        row(EvalPhase::in_task, 0, 0, 70, 100, 15),     row(EvalPhase::in_task, 0, 1, 40, 100, 15),
        row(EvalPhase::in_task, 0, 0, 65, 100, 20),     row(EvalPhase::in_task, 0, 1, 75, 100, 20),
        row(EvalPhase::in_task, 0, 0, 10, 100, 30),     row(EvalPhase::in_task, 0, 1, 10, 100, 30),
        row(EvalPhase::end_of_task, 1, 0, 60, 100, 30), row(EvalPhase::end_of_task, 1, 1, 90, 100, 30),
    };
    const auto matrix = AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il);
    ASSERT_EQ(matrix.in_task_points().size(), 4u);
    EXPECT_EQ(matrix.in_task_points()[0].task, 0);
    EXPECT_EQ(matrix.in_task_points()[1].task, 1);
    EXPECT_EQ(matrix.in_task_points()[1].step, 15);
    EXPECT_NEAR(*average_anytime_accuracy(matrix), 66.0, kTol);
    EXPECT_NEAR(*average_incremental_accuracy(matrix), 77.5, kTol);
}

TEST(Metrics, FoundationRetention) {
    // Foundation task (eval_task −1): 95 % before the stream (recorded only in task-IL mode: its own head, the
    // modes coincide), 90 % after task 0, 85 % after task 1 (a task-IL row of 50 % is ignored: class-IL exists).
    const std::vector<EvalRow> rows = {
        row(EvalPhase::before_task, -1, kFoundationTask, 95, 100, 0, HeadMode::task_il),
        row(EvalPhase::end_of_task, 0, 0, 80, 100),
        row(EvalPhase::end_of_task, 0, kFoundationTask, 90, 100),
        row(EvalPhase::end_of_task, 1, 0, 60, 100),
        row(EvalPhase::end_of_task, 1, 1, 90, 100),
        row(EvalPhase::end_of_task, 1, kFoundationTask, 85, 100),
        row(EvalPhase::end_of_task, 1, kFoundationTask, 50, 100, 0, HeadMode::task_il),
    };
    const auto m = compute_metrics(AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il));
    EXPECT_NEAR(*m.foundation_pre, 95.0, kTol);
    EXPECT_NEAR(*m.foundation_final, 85.0, kTol);
    EXPECT_NEAR(*m.foundation_drop, 10.0, kTol);  // 95 − 85
    ASSERT_EQ(m.foundation_after_task.size(), 2u);
    EXPECT_NEAR(*m.foundation_after_task[0], 90.0, kTol);
    EXPECT_NEAR(*m.foundation_after_task[1], 85.0, kTol);
}

// ---- AccuracyMatrix from rows -------------------------------------------------------------------

TEST(AccuracyMatrix, FromEvalRowsKeepsOneHeadMode) {
    const std::vector<EvalRow> rows = {
        row(EvalPhase::end_of_task, 0, 0, 90, 100, 10, HeadMode::class_il),
        row(EvalPhase::end_of_task, 0, 0, 99, 100, 10, HeadMode::task_il),
        row(EvalPhase::end_of_task, 1, 0, 3, 4, 20, HeadMode::class_il),
        row(EvalPhase::end_of_task, 1, 1, 0, 0, 20, HeadMode::class_il),        // empty split: cell stays absent
        row(EvalPhase::before_handover, 0, 0, 1, 100, 20, HeadMode::class_il),  // ignored
    };
    const auto class_il = AccuracyMatrix::from_eval_rows(rows, HeadMode::class_il);
    EXPECT_EQ(class_il.num_tasks(), 2);
    EXPECT_NEAR(class_il.at(0, 0)->percent, 90.0, kTol);
    EXPECT_EQ(class_il.at(1, 0)->correct, 3);
    EXPECT_EQ(class_il.at(1, 0)->total, 4);
    EXPECT_NEAR(class_il.at(1, 0)->percent, 75.0, kTol);  // 3/4
    EXPECT_FALSE(class_il.at(1, 1));
    EXPECT_EQ(class_il.row_step(1), 20);
    const auto task_il = AccuracyMatrix::from_eval_rows(rows, HeadMode::task_il);
    EXPECT_NEAR(task_il.at(0, 0)->percent, 99.0, kTol);
    EXPECT_FALSE(task_il.at(1, 0));
}

TEST(AccuracyMatrix, LaterRowWinsAndBadRowsThrow) {
    const auto matrix = AccuracyMatrix::from_eval_rows(
        {row(EvalPhase::end_of_task, 0, 0, 50, 100), row(EvalPhase::end_of_task, 0, 0, 60, 100)}, HeadMode::class_il,
        4);
    EXPECT_EQ(matrix.num_tasks(), 4);
    EXPECT_NEAR(matrix.at(0, 0)->percent, 60.0, kTol);
    EXPECT_THROW(AccuracyMatrix::from_eval_rows({row(EvalPhase::end_of_task, 0, 0, 101, 100)}, HeadMode::class_il),
                 std::invalid_argument);
    EXPECT_THROW(AccuracyMatrix::from_eval_rows({row(EvalPhase::end_of_task, 2, 0, 1, 2)}, HeadMode::class_il, 2),
                 std::invalid_argument);
    EXPECT_THROW(matrix.at(4, 0), std::out_of_range);
    EXPECT_THROW(AccuracyCell::from_percent(100.5), std::invalid_argument);
    EXPECT_THROW(AccuracyCell::from_counts(1, 0), std::invalid_argument);
}

// ---- aggregation and text -----------------------------------------------------------------------

TEST(Metrics, AggregateMeanAndSampleStd) {
    MetricSet a, b, c;
    a.acc = 60.0, b.acc = 70.0, c.acc = 80.0;
    a.fwt = 5.0, c.fwt = 7.0;  // not computable in b
    const auto aggregated = aggregate({a, b, c});
    EXPECT_EQ(aggregated.runs, 3);
    ASSERT_EQ(aggregated.metrics.size(), metric_table().size());
    // acc: mean = 70; std = sqrt(((60−70)² + 0² + (80−70)²) / (3 − 1)) = sqrt(200 / 2) = 10.
    const auto& acc = aggregated.get("acc");
    EXPECT_EQ(acc.n, 3);
    EXPECT_NEAR(*acc.mean, 70.0, kTol);
    EXPECT_NEAR(*acc.std, 10.0, kTol);
    // fwt: n = 2, mean = 6, std = sqrt((1² + 1²) / 1) = sqrt(2).
    const auto& fwt = aggregated.get("fwt");
    EXPECT_EQ(fwt.n, 2);
    EXPECT_NEAR(*fwt.mean, 6.0, kTol);
    EXPECT_NEAR(*fwt.std, std::sqrt(2.0), kTol);
    // bwt: computable nowhere.
    EXPECT_EQ(aggregated.get("bwt").n, 0);
    EXPECT_FALSE(aggregated.get("bwt").mean);
    EXPECT_FALSE(aggregated.get("bwt").std);
    // One seed: std 0.
    const auto single = aggregate({a});
    EXPECT_NEAR(*single.get("acc").std, 0.0, kTol);
    EXPECT_EQ(single.get("acc").n, 1);
    EXPECT_THROW(aggregated.get("nope"), std::invalid_argument);

    const std::string text = format_metrics_table(aggregated);
    EXPECT_NE(text.find("Final accuracy (Acc)"), std::string::npos) << text;
    EXPECT_NE(text.find("70.00 ± 10.00"), std::string::npos) << text;
    EXPECT_NE(text.find("6.00 ± 1.41 (n=2)"), std::string::npos) << text;
    EXPECT_NE(text.find("n/a"), std::string::npos) << text;
}

TEST(Metrics, TableDescribesEveryMetric) {
    const std::vector<std::string> expected = {"acc",
                                               "acc_w",
                                               "aaa",
                                               "anytime",
                                               "forgetting_max",
                                               "forgetting_initial",
                                               "bwt",
                                               "fwt",
                                               "foundation_pre",
                                               "foundation_final",
                                               "foundation_drop"};
    std::vector<std::string> keys;
    for (const auto& info : metric_table()) {
        keys.push_back(info.key);
        EXPECT_FALSE(info.name.empty()) << info.key;
        EXPECT_FALSE(info.formula.empty()) << info.key;
        EXPECT_FALSE(info.description.empty()) << info.key;
        EXPECT_NE(info.member, nullptr) << info.key;
    }
    EXPECT_EQ(keys, expected);
    EXPECT_FALSE(metric_info("forgetting_max").higher_is_better);
    MetricSet m;
    m.bwt = -3.0;
    EXPECT_EQ(m.value("bwt"), -3.0);
    EXPECT_THROW(m.value("accuracy"), std::invalid_argument);
}

TEST(Metrics, FormatsTableAndMatrix) {
    const auto matrix = percent_matrix({{90}, {80, 70}, {60, 50, 95}});
    const std::string table = format_metrics_table(compute_metrics(matrix));
    EXPECT_NE(table.find("Final accuracy (Acc)"), std::string::npos) << table;
    EXPECT_NE(table.find("68.33"), std::string::npos) << table;   // Acc
    EXPECT_NE(table.find("77.78"), std::string::npos) << table;   // AAA
    EXPECT_NE(table.find("-25.00"), std::string::npos) << table;  // BWT
    EXPECT_NE(table.find("n/a"), std::string::npos) << table;     // Acc_w, FWT, foundation
    EXPECT_EQ(std::count(table.begin(), table.end(), '\n'), static_cast<long>(metric_table().size()));

    const std::string text = format_matrix(matrix);
    // Header + 3 rows; row 1 holds "80.00" and "70.00", in that order; row 0 nothing right of the diagonal.
    std::istringstream lines(text);
    std::vector<std::string> rows;
    for (std::string line; std::getline(lines, line);) rows.push_back(line);
    ASSERT_EQ(rows.size(), 4u) << text;
    EXPECT_NE(rows[1].find("90.00"), std::string::npos) << text;
    EXPECT_EQ(rows[1].find("80.00"), std::string::npos) << text;
    EXPECT_LT(rows[2].find("80.00"), rows[2].find("70.00")) << text;
    EXPECT_NE(rows[3].find("95.00"), std::string::npos) << text;
    EXPECT_EQ(format_matrix(AccuracyMatrix(0)), "(empty accuracy matrix)\n");
}

// ---- percent CSV --------------------------------------------------------------------------------

TEST(AccuracyCsv, ParsesTriangularAndSquareForms) {
    const auto triangular = parse_csv("90\n80,70\n60,50,95\n");
    EXPECT_EQ(triangular.num_tasks(), 3);
    EXPECT_NEAR(*final_accuracy(triangular), 205.0 / 3.0, kTol);
    EXPECT_NEAR(*forgetting_max(triangular), 25.0, kTol);
    EXPECT_FALSE(triangular.at(0, 0)->has_counts());
    EXPECT_FALSE(weighted_final_accuracy(triangular));

    // Square with empty upper cells, comments, blank lines, spaces, CRLF, a '%' sign and quotes.
    const auto square = parse_csv("# R[t][j] from the paper\r\n90, ,\r\n\r\n 80 , 70%,\r\n\"60\",50,95.0\r\n");
    for (int t = 0; t < 3; ++t)
        for (int j = 0; j <= t; ++j) EXPECT_NEAR(square.at(t, j)->percent, triangular.at(t, j)->percent, kTol);
    EXPECT_FALSE(square.at(0, 1));

    // An empty cell left of the diagonal is unknown: metrics that read it are not computable.
    const auto gap = parse_csv("90\n,70\n60,50,95\n");
    EXPECT_FALSE(gap.at(1, 0));
    EXPECT_FALSE(average_incremental_accuracy(gap));
    EXPECT_NEAR(*final_accuracy(gap), 205.0 / 3.0, kTol);
}

TEST(AccuracyCsv, ErrorsNameSourceLineAndColumn) {
    int line = 0, column = 0;
    // Non-numeric at line 2, field 2.
    std::string error = csv_error("90\n80,abc\n", &line, &column);
    EXPECT_NE(error.find("paper.csv"), std::string::npos) << error;
    EXPECT_NE(error.find("line 2, column 2"), std::string::npos) << error;
    EXPECT_NE(error.find("abc"), std::string::npos) << error;
    EXPECT_EQ(line, 2);
    EXPECT_EQ(column, 2);

    // Out of range (line numbers count comment and blank lines).
    error = csv_error("# header\n\n90\n80,170\n", &line, &column);
    EXPECT_NE(error.find("line 4, column 2"), std::string::npos) << error;
    EXPECT_NE(error.find("[0, 100]"), std::string::npos) << error;
    EXPECT_NE(csv_error("-5\n").find("[0, 100]"), std::string::npos);
    EXPECT_NE(csv_error("nan\n").find("not a number"), std::string::npos);

    // Missing diagonal: an empty diagonal field, or a row one value short.
    error = csv_error("90\n80,\n");
    EXPECT_NE(error.find("line 2, column 2"), std::string::npos) << error;
    EXPECT_NE(error.find("missing diagonal"), std::string::npos) << error;
    error = csv_error("90\n80\n");
    EXPECT_NE(error.find("line 2, column 2"), std::string::npos) << error;
    EXPECT_NE(error.find("missing diagonal"), std::string::npos) << error;

    // Ragged rows: too short, or wider than the number of rows.
    error = csv_error("90\n80,70\n60\n");
    EXPECT_NE(error.find("line 3"), std::string::npos) << error;
    EXPECT_NE(error.find("ragged"), std::string::npos) << error;
    error = csv_error("90,,,\n80,70\n");
    EXPECT_NE(error.find("line 1, column 3"), std::string::npos) << error;
    EXPECT_NE(error.find("ragged"), std::string::npos) << error;

    // A value right of the diagonal: an upper-triangular (transposed) matrix.
    error = csv_error("90,80,60\n70,50\n95\n");
    EXPECT_NE(error.find("line 1, column 2"), std::string::npos) << error;
    EXPECT_NE(error.find("right of the diagonal"), std::string::npos) << error;

    // Nothing at all.
    error = csv_error("# only a comment\n");
    EXPECT_NE(error.find("no matrix rows"), std::string::npos) << error;
}

}  // namespace
}  // namespace lorica
