#include "engine/eval/accuracy_matrix.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <string_view>
#include <utility>

namespace lorica {

// ---- AccuracyCell -------------------------------------------------------------------------------

AccuracyCell AccuracyCell::from_counts(int64_t correct, int64_t total) {
    if (total <= 0 || correct < 0 || correct > total)
        throw std::invalid_argument("accuracy counts must satisfy 0 <= correct <= total and total > 0, got " +
                                    std::to_string(correct) + "/" + std::to_string(total));
    AccuracyCell cell;
    cell.correct = correct;
    cell.total = total;
    cell.percent = 100.0 * static_cast<double>(correct) / static_cast<double>(total);
    return cell;
}

AccuracyCell AccuracyCell::from_percent(double percent) {
    if (!(percent >= 0.0 && percent <= 100.0))  // also rejects NaN
        throw std::invalid_argument("accuracy must lie in [0, 100] percent, got " + std::to_string(percent));
    AccuracyCell cell;
    cell.percent = percent;
    return cell;
}

// ---- AccuracyCsvError ---------------------------------------------------------------------------

namespace {

std::string csv_location(const std::string& source, int line, int column) {
    std::string text = source + ": line " + std::to_string(line);
    if (column > 0) text += ", column " + std::to_string(column);
    return text;
}

}  // namespace

AccuracyCsvError::AccuracyCsvError(const std::string& source, int line, int column, const std::string& message)
    : std::runtime_error(csv_location(source, line, column) + ": " + message), line_(line), column_(column) {}

// ---- AccuracyMatrix: storage --------------------------------------------------------------------

AccuracyMatrix::AccuracyMatrix(int num_tasks) {
    if (num_tasks < 0)
        throw std::invalid_argument("accuracy matrix: number of tasks must be >= 0, got " + std::to_string(num_tasks));
    num_tasks_ = num_tasks;
    const auto n = static_cast<size_t>(num_tasks);
    cells_.resize(n * n);
    row_steps_.resize(n);
    before_task_.resize(n);
    random_init_.resize(n);
    foundation_.resize(n + 1);
}

void AccuracyMatrix::check_task(int index, const char* what) const {
    if (index < 0 || index >= num_tasks_)
        throw std::out_of_range(std::string("accuracy matrix: ") + what + " " + std::to_string(index) +
                                " is outside [0, " + std::to_string(num_tasks_) + ")");
}

int AccuracyMatrix::final_task() const {
    for (int t = num_tasks_ - 1; t >= 0; --t)
        for (int j = 0; j < num_tasks_; ++j)
            if (cells_[static_cast<size_t>(t) * num_tasks_ + j]) return t;
    return -1;
}

const OptionalCell& AccuracyMatrix::at(int t, int j) const {
    check_task(t, "row (after task)");
    check_task(j, "column (evaluated task)");
    return cells_[static_cast<size_t>(t) * num_tasks_ + j];
}

void AccuracyMatrix::set(int t, int j, AccuracyCell cell) {
    check_task(t, "row (after task)");
    check_task(j, "column (evaluated task)");
    cells_[static_cast<size_t>(t) * num_tasks_ + j] = cell;
}

std::optional<int64_t> AccuracyMatrix::row_step(int t) const {
    check_task(t, "row (after task)");
    return row_steps_[t];
}

void AccuracyMatrix::set_row_step(int t, int64_t step) {
    check_task(t, "row (after task)");
    row_steps_[t] = step;
}

const OptionalCell& AccuracyMatrix::before_task(int j) const {
    check_task(j, "task");
    return before_task_[j];
}

void AccuracyMatrix::set_before_task(int j, AccuracyCell cell) {
    check_task(j, "task");
    before_task_[j] = cell;
}

const OptionalCell& AccuracyMatrix::random_init(int j) const {
    check_task(j, "task");
    return random_init_[j];
}

void AccuracyMatrix::set_random_init(int j, AccuracyCell cell) {
    check_task(j, "task");
    random_init_[j] = cell;
}

const OptionalCell& AccuracyMatrix::foundation(int after_task) const {
    if (after_task != -1) check_task(after_task, "foundation after task");
    return foundation_[after_task + 1];
}

void AccuracyMatrix::set_foundation(int after_task, AccuracyCell cell) {
    if (after_task != -1) check_task(after_task, "foundation after task");
    foundation_[after_task + 1] = cell;
}

void AccuracyMatrix::add_in_task_point(InTaskPoint point) {
    check_task(point.task, "in-task point task");
    point.cells.resize(static_cast<size_t>(num_tasks_));
    const auto key_less = [](const InTaskPoint& a, const InTaskPoint& b) {
        return std::pair(a.step, a.task) < std::pair(b.step, b.task);
    };
    auto it = std::lower_bound(in_task_.begin(), in_task_.end(), point, key_less);
    if (it != in_task_.end() && it->step == point.step && it->task == point.task) {
        for (size_t j = 0; j < point.cells.size(); ++j)
            if (point.cells[j]) it->cells[j] = point.cells[j];
        return;
    }
    in_task_.insert(it, std::move(point));
}

// ---- AccuracyMatrix: from evaluation rows -------------------------------------------------------

namespace {

std::string describe_row(const EvalRow& row) {
    return std::string("evaluation row (phase ") + to_string(row.phase) + ", head " + to_string(row.head_mode) +
           ", after_task " + std::to_string(row.after_task) + ", eval_task " + std::to_string(row.eval_task) +
           ", step " + std::to_string(row.step) + ")";
}

// 1 + the largest task index a row refers to (0 when it refers to none).
int tasks_needed(const EvalRow& row) {
    int needed = row.eval_task + 1;
    if (row.phase == EvalPhase::in_task)
        needed = std::max(needed, row.after_task + 2);
    else
        needed = std::max(needed, row.after_task + 1);
    return needed;
}

}  // namespace

AccuracyMatrix AccuracyMatrix::from_eval_rows(const std::vector<EvalRow>& rows, HeadMode mode, int num_tasks) {
    int inferred = 0;
    for (const auto& row : rows) {
        if (row.eval_task < kFoundationTask || row.after_task < -1)
            throw std::invalid_argument("accuracy matrix: negative task index in " + describe_row(row));
        if (row.total < 0 || row.correct < 0 || row.correct > row.total)
            throw std::invalid_argument("accuracy matrix: counts " + std::to_string(row.correct) + "/" +
                                        std::to_string(row.total) + " are inconsistent in " + describe_row(row));
        inferred = std::max(inferred, tasks_needed(row));
    }
    if (num_tasks < 0)
        throw std::invalid_argument("accuracy matrix: number of tasks must be >= 0, got " + std::to_string(num_tasks));
    if (num_tasks > 0 && inferred > num_tasks) {
        for (const auto& row : rows)
            if (tasks_needed(row) > num_tasks)
                throw std::invalid_argument("accuracy matrix: " + describe_row(row) + " refers to a task beyond the " +
                                            std::to_string(num_tasks) + " tasks of the stream");
    }
    AccuracyMatrix matrix(num_tasks > 0 ? num_tasks : inferred);

    std::vector<OptionalCell> foundation_other_mode(static_cast<size_t>(matrix.num_tasks_) + 1);
    std::map<std::pair<int64_t, int>, InTaskPoint> in_task;  // (step, task) → point

    for (const auto& row : rows) {
        if (row.total == 0) continue;  // an empty test split: no accuracy
        const AccuracyCell cell = AccuracyCell::from_counts(row.correct, row.total);
        if (row.eval_task == kFoundationTask) {
            int slot = -2;  // after_task + 1 of the foundation cell this row fills, −2 = none
            if (row.phase == EvalPhase::end_of_task)
                slot = row.after_task + 1;
            else if (row.phase == EvalPhase::before_task && row.after_task == -1)
                slot = 0;
            if (slot < 0) continue;
            if (row.head_mode == mode)
                matrix.foundation_[slot] = cell;
            else
                foundation_other_mode[slot] = cell;
            continue;
        }
        if (row.head_mode != mode) continue;
        const int j = row.eval_task;
        switch (row.phase) {
            case EvalPhase::end_of_task:
                if (row.after_task < 0) break;
                matrix.set(row.after_task, j, cell);
                matrix.set_row_step(row.after_task, row.step);
                break;
            case EvalPhase::before_task:
                if (row.after_task == j - 1) matrix.set_before_task(j, cell);
                break;
            case EvalPhase::random_init:
                matrix.set_random_init(j, cell);
                break;
            case EvalPhase::in_task: {
                auto& point = in_task[{row.step, row.after_task + 1}];
                point.task = row.after_task + 1;
                point.step = row.step;
                point.cells.resize(static_cast<size_t>(matrix.num_tasks_));
                point.cells[j] = cell;
                break;
            }
            case EvalPhase::before_handover:
            case EvalPhase::after_handover:
                break;
        }
    }
    for (size_t slot = 0; slot < foundation_other_mode.size(); ++slot)
        if (!matrix.foundation_[slot]) matrix.foundation_[slot] = foundation_other_mode[slot];
    for (auto& [key, point] : in_task) matrix.in_task_.push_back(std::move(point));  // map order = (step, task)
    return matrix;
}

// ---- AccuracyMatrix: from a percent CSV ---------------------------------------------------------

namespace {

std::string_view trim(std::string_view text) {
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::vector<std::string_view> split_fields(std::string_view line) {
    std::vector<std::string_view> fields;
    size_t start = 0;
    while (true) {
        const size_t comma = line.find(',', start);
        std::string_view field = trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
            field = trim(field.substr(1, field.size() - 2));
        fields.push_back(field);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return fields;
}

struct CsvRow {
    int line = 0;                               // 1-based physical line
    size_t field_count = 0;                     // fields on the line, empty ones included
    std::vector<std::optional<double>> values;  // R[t][0..t]
};

}  // namespace

AccuracyMatrix AccuracyMatrix::from_percent_csv(std::istream& in, std::string source_name) {
    std::vector<CsvRow> rows;
    std::string line;
    int line_number = 0;
    while (std::getline(in, line)) {
        ++line_number;
        const std::string_view content = trim(line);
        if (content.empty() || content.front() == '#') continue;
        const auto fields = split_fields(content);
        const size_t t = rows.size();
        CsvRow row;
        row.line = line_number;
        row.field_count = fields.size();
        if (fields.size() < t + 1) {
            if (fields.size() == t)
                throw AccuracyCsvError(source_name, line_number, static_cast<int>(t) + 1,
                                       "missing diagonal value R[" + std::to_string(t) + "][" + std::to_string(t) +
                                           "]: row " + std::to_string(t) + " (after task " + std::to_string(t) +
                                           ") must hold " + std::to_string(t + 1) + " values, found " +
                                           std::to_string(fields.size()));
            throw AccuracyCsvError(source_name, line_number, static_cast<int>(fields.size()) + 1,
                                   "ragged row: row " + std::to_string(t) + " (after task " + std::to_string(t) +
                                       ") must hold R[" + std::to_string(t) + "][0.." + std::to_string(t) + "], i.e. " +
                                       std::to_string(t + 1) + " values, found " + std::to_string(fields.size()));
        }
        for (size_t k = 0; k < fields.size(); ++k) {
            const int column = static_cast<int>(k) + 1;
            std::string_view field = fields[k];
            if (k > t) {
                if (!field.empty())
                    throw AccuracyCsvError(source_name, line_number, column,
                                           "value '" + std::string(field) + "' right of the diagonal: row " +
                                               std::to_string(t) + " may only hold R[" + std::to_string(t) + "][0.." +
                                               std::to_string(t) +
                                               "] (rows are 'after task t', columns 'evaluated task j'; "
                                               "is the matrix transposed?)");
                continue;
            }
            if (field.empty()) {
                if (k == t)
                    throw AccuracyCsvError(
                        source_name, line_number, column,
                        "missing diagonal value R[" + std::to_string(t) + "][" + std::to_string(t) + "]");
                row.values.emplace_back();  // unknown cell left of the diagonal
                continue;
            }
            std::string_view number = field;
            if (number.back() == '%') number = trim(number.substr(0, number.size() - 1));
            double value = 0.0;
            const char* first = number.data();
            const char* last = number.data() + number.size();
            if (!number.empty() && *first == '+') ++first;  // from_chars rejects a leading '+'
            const auto [end, error] = std::from_chars(first, last, value);
            if (number.empty() || error != std::errc() || end != last || !std::isfinite(value))
                throw AccuracyCsvError(source_name, line_number, column,
                                       "'" + std::string(field) + "' is not a number (expected a percentage)");
            if (value < 0.0 || value > 100.0)
                throw AccuracyCsvError(source_name, line_number, column,
                                       "accuracy " + std::string(field) + " is outside [0, 100] percent");
            row.values.emplace_back(value);
        }
        rows.push_back(std::move(row));
    }
    if (rows.empty()) throw AccuracyCsvError(source_name, std::max(line_number, 1), 0, "no matrix rows found");

    const size_t num_tasks = rows.size();
    for (const auto& row : rows)
        if (row.field_count > num_tasks)
            throw AccuracyCsvError(source_name, row.line, static_cast<int>(num_tasks) + 1,
                                   "ragged row: " + std::to_string(row.field_count) + " fields, but the matrix has " +
                                       std::to_string(num_tasks) + " rows (tasks)");

    AccuracyMatrix matrix(static_cast<int>(num_tasks));
    for (size_t t = 0; t < num_tasks; ++t)
        for (size_t j = 0; j <= t; ++j)
            if (rows[t].values[j])
                matrix.set(static_cast<int>(t), static_cast<int>(j), AccuracyCell::from_percent(*rows[t].values[j]));
    return matrix;
}

}  // namespace lorica
