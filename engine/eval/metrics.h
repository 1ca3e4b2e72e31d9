#pragma once
// Continual-learning metrics: pure functions of an AccuracyMatrix (accuracy_matrix.h), as specified in
// /work/shared/methods.md, "Task streams and evaluation".
//
// Notation: R[t][j] = accuracy (percent) on task j after training task t; T = the final row
// (`AccuracyMatrix::final_task()`; for a run in progress, the last finished task); R[j-1][j] = task j just
// before it is trained (j = 0: before the stream); R_rand[j] = task j with a randomly initialised backbone;
// F(t) = foundation-task accuracy after task t, F(−1) before the stream.
//
// Every value is in percent (accuracies and their differences), and every metric is a std::optional:
// nullopt means "not computable" — a cell the formula reads is absent, or the formula is empty (forgetting
// and BWT need at least two tasks; FWT needs some j with both R[j-1][j] and R_rand[j]; Acc_w needs counts).
// Rule: a metric reads every cell its formula names and is nullopt if any is missing; the exceptions are
// FWT (averaged over the j where both cells exist, as published) and the in-task points of anytime accuracy
// (averaged over the tasks evaluated at that point). Averages over tasks are unweighted unless named "_w".
//
//   Acc                 mean_{j≤T} R[T][j]
//   Acc_w               Σ_{j≤T} correct[T][j] / Σ_{j≤T} total[T][j]          (needs sample counts)
//   Acc(t)              mean_{j≤t} R[t][j]
//   AAA                 mean_{t≤T} Acc(t)                                      (SD-LoRA's "AAA")
//   anytime             mean over all evaluation points p, in-task and end-of-task, of the mean accuracy over
//                       the tasks seen at p. An end-of-task point after task t contributes Acc(t); an in-task
//                       point while training task t contributes the mean of the tasks j ≤ t evaluated there.
//                       An in-task point at the same step as the end-of-task evaluation of its task is the
//                       same model and is counted once (as the end-of-task point). With no in-task points the
//                       value equals AAA.
//   forgetting (max)    mean_{j<T} ( max_{j≤t<T} R[t][j] − R[T][j] )           (arXiv 1801.10112; positive = forgot)
//   forgetting (init)   mean_{j<T} ( R[j][j] − R[T][j] )                       (Avalanche; arXiv 2405.18069)
//   BWT                 mean_{j<T} ( R[T][j] − R[j][j] )                       (= − forgetting (init))
//   FWT                 mean_j ( R[j-1][j] − R_rand[j] ), over the j where both exist
//   foundation          F(t) for t = 0..T; pre-stream F(−1); final F(T); drop F(−1) − F(T) (positive = lost)

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/eval/accuracy_matrix.h"

namespace lorica {

// ---- single metrics -----------------------------------------------------------------------------

// Acc(t) = mean_{j≤t} R[t][j]; t in [0, num_tasks()) (std::out_of_range otherwise).
std::optional<double> accuracy_after_task(const AccuracyMatrix& matrix, int t);
// Acc = Acc(T).
std::optional<double> final_accuracy(const AccuracyMatrix& matrix);
// Acc_w: the final row's accuracy over all its samples (needs counts in every cell R[T][0..T]).
std::optional<double> weighted_final_accuracy(const AccuracyMatrix& matrix);
// AAA = mean_{t≤T} Acc(t).
std::optional<double> average_incremental_accuracy(const AccuracyMatrix& matrix);
// Average anytime accuracy over end-of-task and in-task evaluation points (see the file comment).
std::optional<double> average_anytime_accuracy(const AccuracyMatrix& matrix);
// Forgetting of task j < T, max-based: max_{j≤t<T} R[t][j] − R[T][j]; nullopt for j ≥ T.
std::optional<double> forgetting_max_of_task(const AccuracyMatrix& matrix, int j);
// Forgetting of task j < T, initial-based: R[j][j] − R[T][j]; nullopt for j ≥ T.
std::optional<double> forgetting_initial_of_task(const AccuracyMatrix& matrix, int j);
// mean_{j<T} of the per-task values above.
std::optional<double> forgetting_max(const AccuracyMatrix& matrix);
std::optional<double> forgetting_initial(const AccuracyMatrix& matrix);
// BWT = mean_{j<T} (R[T][j] − R[j][j]).
std::optional<double> backward_transfer(const AccuracyMatrix& matrix);
// FWT = mean_j (R[j-1][j] − R_rand[j]) over the j where both exist. R[j-1][j] is the before-task cell, or,
// when that is absent and j ≥ 1, an end-of-task cell R[j-1][j] right of the diagonal.
std::optional<double> forward_transfer(const AccuracyMatrix& matrix);
// F(t) for t = 0..T (empty when T = −1).
std::vector<std::optional<double>> foundation_accuracy_after_tasks(const AccuracyMatrix& matrix);
// F(−1), F(T), F(−1) − F(T).
std::optional<double> foundation_pre_stream(const AccuracyMatrix& matrix);
std::optional<double> foundation_final(const AccuracyMatrix& matrix);
std::optional<double> foundation_drop(const AccuracyMatrix& matrix);

// ---- all metrics of one run ---------------------------------------------------------------------

struct MetricSet {
    int tasks_seen = 0;  // T + 1: rows of the matrix the metrics were computed from

    std::optional<double> acc;                 // final average accuracy, percent
    std::optional<double> acc_w;               // sample-weighted final accuracy, percent
    std::optional<double> aaa;                 // average incremental accuracy, percent
    std::optional<double> anytime;             // average anytime accuracy, percent
    std::optional<double> forgetting_max;      // percentage points, positive = forgot
    std::optional<double> forgetting_initial;  // percentage points, positive = forgot
    std::optional<double> bwt;                 // percentage points, negative = forgot
    std::optional<double> fwt;                 // percentage points, positive = helped
    std::optional<double> foundation_pre;      // foundation accuracy before the stream, percent
    std::optional<double> foundation_final;    // foundation accuracy after task T, percent
    std::optional<double> foundation_drop;     // foundation_pre − foundation_final, percentage points

    std::vector<std::optional<double>> acc_after_task;         // Acc(t), t = 0..T
    std::vector<std::optional<double>> foundation_after_task;  // F(t), t = 0..T

    // The scalar metric named `key` (a MetricInfo::key); std::invalid_argument for an unknown key.
    std::optional<double> value(std::string_view key) const;
};

// Description of one scalar metric of MetricSet, for tables, tooltips and docs.
struct MetricInfo {
    std::string key;          // stable identifier, e.g. "forgetting_max" (store, CLI, JSON)
    std::string name;         // display name, e.g. "Forgetting (max)"
    std::string formula;      // the formula in unicode, e.g. "mean_{j<T} (max_{j≤t<T} R[t][j] − R[T][j])"
    std::string description;  // one sentence: what it measures and where it comes from
    bool higher_is_better = true;
    std::optional<double> MetricSet::*member = nullptr;  // the MetricSet field holding it
};

// Every scalar metric, in display order: acc, acc_w, aaa, anytime, forgetting_max, forgetting_initial, bwt,
// fwt, foundation_pre, foundation_final, foundation_drop.
const std::vector<MetricInfo>& metric_table();
// The entry of `key`; std::invalid_argument for an unknown key.
const MetricInfo& metric_info(std::string_view key);

// Computes every metric of `matrix`.
MetricSet compute_metrics(const AccuracyMatrix& matrix);

// ---- across seeds -------------------------------------------------------------------------------

// One metric over several runs (seeds).
struct MetricAggregate {
    std::string key;             // MetricInfo::key
    int n = 0;                   // runs in which the metric was computable (nullopt values are skipped)
    std::optional<double> mean;  // nullopt when n = 0
    std::optional<double> std;   // sample standard deviation (divisor n − 1); 0 when n = 1; nullopt when n = 0
};

struct AggregatedMetrics {
    int runs = 0;                          // number of MetricSets aggregated
    std::vector<MetricAggregate> metrics;  // one per metric_table() entry, same order

    // The aggregate of `key`; std::invalid_argument for an unknown key.
    const MetricAggregate& get(std::string_view key) const;
};

// Per metric: mean and sample standard deviation over the sets in which it is computable.
AggregatedMetrics aggregate(const std::vector<MetricSet>& sets);

// ---- text ---------------------------------------------------------------------------------------

// One line per metric: display name, then the value in percent with two decimals ("n/a" when not
// computable), e.g. "Final accuracy (Acc)          68.33".
std::string format_metrics_table(const MetricSet& metrics);
// The same for several seeds: "mean ± std" with two decimals and the number of runs it is computed from when
// that differs from the number aggregated ("70.00 ± 10.00", "6.00 ± 1.41 (n=2)"); "n/a" when n = 0.
std::string format_metrics_table(const AggregatedMetrics& metrics);
// R in percent with two decimals: a header of evaluated tasks j (all num_tasks() columns), then one line per
// finished row t = 0..T ("after task t"); "-" for an absent cell at or left of the diagonal, blank right of it
// (unless evaluated). A matrix of zero tasks gives "(empty accuracy matrix)\n".
std::string format_matrix(const AccuracyMatrix& matrix);

}  // namespace lorica
