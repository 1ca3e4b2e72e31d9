#pragma once
// The accuracy matrix of one run for one head mode: what the continual-learning metrics are computed from.
//
// R[t][j] is the accuracy on the test split of stream task j, measured after training task t (row = "after
// task t", column = "evaluated task j"), stored as correct/total sample counts so that sample-weighted
// averages stay exact. Beside R the matrix keeps every other evaluation the metrics of
// /work/shared/methods.md ("Task streams and evaluation") read:
//
//   before-task cells   R[j-1][j]: task j evaluated just before it is trained (j = 0: before the stream),
//                       for forward transfer.
//   random-init cells   R_rand[j]: task j evaluated with a randomly initialised backbone (forward transfer).
//   foundation cells    the foundation (pre-training) task after each stream task, and before the stream.
//   in-task points      evaluations every N steps inside a task (average anytime accuracy).
//
// Every cell is optional: an absent cell was not evaluated (or not recorded), and a metric that needs it
// is "not computable" (see metrics.h). A cell built from a percentage alone (`from_percent_csv`) has no
// counts, so sample-weighted metrics are not computable on it.
//
// Two ways in:
//   from_eval_rows      the `EvalRow`s the trainer emits (engine/vocabulary/events.h), or reads back from the store;
//   from_percent_csv    a lower-triangular table of percentages, e.g. typed in from a paper for comparison.
//
// Indices are 0-based stream positions; a matrix of `num_tasks()` tasks has rows and columns
// 0 … num_tasks() − 1. A run still in progress has fewer rows than tasks: `final_task()` is the last row
// that holds any cell, and the metrics treat it as T.

#include <cstdint>
#include <istream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/vocabulary/events.h"

namespace lorica {

// One evaluation result: an accuracy, with the sample counts it came from when they are known.
struct AccuracyCell {
    double percent = 0.0;  // accuracy in percent, in [0, 100]
    int64_t correct = 0;   // correctly classified test samples (meaningful only when has_counts())
    int64_t total = 0;     // test samples evaluated; 0 when only the percentage is known

    bool has_counts() const { return total > 0; }

    // From sample counts: percent = 100 · correct / total. Throws std::invalid_argument unless
    // total > 0 and 0 ≤ correct ≤ total.
    static AccuracyCell from_counts(int64_t correct, int64_t total);
    // From a percentage alone (no counts). Throws std::invalid_argument unless 0 ≤ percent ≤ 100.
    static AccuracyCell from_percent(double percent);
};

using OptionalCell = std::optional<AccuracyCell>;

// The evaluations taken at one step inside a task (phase in_task).
struct InTaskPoint {
    int task = 0;                     // the stream task being trained at that point (EvalRow::after_task + 1)
    int64_t step = 0;                 // global stream optimizer step of the evaluation
    std::vector<OptionalCell> cells;  // [num_tasks]: accuracy on each stream task; absent = not evaluated
};

// A malformed percent CSV: the message reads "<source>: line L, column C: <what is wrong>".
// line: 1-based physical line of the input; column: 1-based comma-separated field (0 for the whole line
// or the whole input).
class AccuracyCsvError : public std::runtime_error {
public:
    AccuracyCsvError(const std::string& source, int line, int column, const std::string& message);
    int line() const { return line_; }
    int column() const { return column_; }

private:
    int line_ = 0;
    int column_ = 0;
};

class AccuracyMatrix {
public:
    // An empty matrix of `num_tasks` stream tasks (≥ 0; std::invalid_argument otherwise): no cell set.
    explicit AccuracyMatrix(int num_tasks = 0);

    // Builds the matrix of one head mode from evaluation rows (any order; rows of the other head mode are
    // ignored, except for the foundation task, below). Which row goes where:
    //   phase end_of_task, eval_task j ≥ 0          → R[after_task][j]   (after_task ≥ 0)
    //   phase before_task, eval_task j ≥ 0          → before_task(j), when after_task == j − 1 (else ignored)
    //   phase random_init, eval_task j ≥ 0          → random_init(j)
    //   phase in_task,     eval_task j ≥ 0          → the in-task point (task after_task + 1, step)
    //   eval_task == kFoundationTask:
    //     phase end_of_task, after_task t ≥ 0       → foundation(t)
    //     phase end_of_task or before_task, after_task −1  → foundation(−1), the pre-stream value
    //   anything else (handover phases, in-task foundation rows, ...) is ignored.
    // The foundation task is judged by its own frozen head, where class-IL and task-IL predictions coincide;
    // so when a foundation cell has no row of the requested mode, a row of the other mode fills it.
    // Rows with total == 0 (an empty test split) leave their cell absent. When two rows fill the same cell
    // the later one in `rows` wins (a resumed run re-evaluating).
    //
    // rows: the evaluations of one run; mode: the head mode to keep;
    // num_tasks: the stream length, or 0 to infer it as 1 + the largest task index in the rows. A row
    // whose index is ≥ a given num_tasks, or with correct outside [0, total], throws std::invalid_argument.
    static AccuracyMatrix from_eval_rows(const std::vector<EvalRow>& rows, HeadMode mode, int num_tasks = 0);

    // Reads a lower-triangular matrix of percentages: one comma-separated line per row, row t holding
    // R[t][0..t] in percent (0–100; a trailing '%' is allowed). Cells right of the diagonal are empty or
    // absent; cells left of the diagonal may be empty (unknown); the diagonal R[t][t] is required.
    // Blank lines and lines starting with '#' are skipped; fields are trimmed; CRLF line ends are accepted.
    // The matrix has as many tasks as rows. No counts, no before-task/random-init/foundation/in-task cells.
    //
    // in: the CSV text; source_name: what errors call the input (a file name, "clipboard", ...).
    // Throws AccuracyCsvError naming source, line and column for: a non-numeric field, a value outside
    // [0, 100], a missing diagonal value, a value right of the diagonal (an upper-triangular, i.e.
    // transposed, matrix), a ragged row (fewer than t + 1 fields, or more fields than the matrix has
    // tasks), and an input without any row.
    static AccuracyMatrix from_percent_csv(std::istream& in, std::string source_name);

    // Number of stream tasks (rows and columns).
    int num_tasks() const { return num_tasks_; }
    // T: the last row t holding at least one cell R[t][·]; −1 when there is none.
    int final_task() const;

    // R[t][j], t and j in [0, num_tasks()) (std::out_of_range otherwise).
    const OptionalCell& at(int t, int j) const;
    void set(int t, int j, AccuracyCell cell);
    // The global step at which row t was evaluated (end_of_task rows), when known.
    std::optional<int64_t> row_step(int t) const;
    void set_row_step(int t, int64_t step);

    // R[j-1][j]: task j evaluated just before training it; j in [0, num_tasks()).
    const OptionalCell& before_task(int j) const;
    void set_before_task(int j, AccuracyCell cell);

    // R_rand[j]: task j evaluated with a randomly initialised backbone; j in [0, num_tasks()).
    const OptionalCell& random_init(int j) const;
    void set_random_init(int j, AccuracyCell cell);

    // Foundation-task accuracy after stream task `after_task`, in [−1, num_tasks()); −1 = before the stream.
    const OptionalCell& foundation(int after_task) const;
    void set_foundation(int after_task, AccuracyCell cell);

    // In-task evaluation points, sorted by step.
    const std::vector<InTaskPoint>& in_task_points() const { return in_task_; }
    // Adds (or, for an existing (task, step), merges into) an in-task point. point.cells is resized to
    // num_tasks(); its present cells overwrite those of an existing point. task in [0, num_tasks()).
    void add_in_task_point(InTaskPoint point);

private:
    void check_task(int index, const char* what) const;

    int num_tasks_ = 0;
    std::vector<OptionalCell> cells_;                // [num_tasks · num_tasks], row-major R[t][j]
    std::vector<std::optional<int64_t>> row_steps_;  // [num_tasks]
    std::vector<OptionalCell> before_task_;          // [num_tasks]
    std::vector<OptionalCell> random_init_;          // [num_tasks]
    std::vector<OptionalCell> foundation_;           // [num_tasks + 1], index after_task + 1
    std::vector<InTaskPoint> in_task_;               // sorted by (step, task)
};

}  // namespace lorica
