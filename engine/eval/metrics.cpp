#include "engine/eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace lorica {

namespace {

std::optional<double> percent(const OptionalCell& cell) {
    if (!cell) return std::nullopt;
    return cell->percent;
}

// Mean of the values, or nullopt when any is missing or there are none.
std::optional<double> strict_mean(const std::vector<std::optional<double>>& values) {
    if (values.empty()) return std::nullopt;
    double sum = 0.0;
    for (const auto& v : values) {
        if (!v) return std::nullopt;
        sum += *v;
    }
    return sum / static_cast<double>(values.size());
}

}  // namespace

// ---- single metrics -----------------------------------------------------------------------------

std::optional<double> accuracy_after_task(const AccuracyMatrix& matrix, int t) {
    if (t < 0 || t >= matrix.num_tasks())
        throw std::out_of_range("accuracy_after_task: task " + std::to_string(t) + " is outside [0, " +
                                std::to_string(matrix.num_tasks()) + ")");
    std::vector<std::optional<double>> row;
    for (int j = 0; j <= t; ++j) row.push_back(percent(matrix.at(t, j)));
    return strict_mean(row);
}

std::optional<double> final_accuracy(const AccuracyMatrix& matrix) {
    const int T = matrix.final_task();
    if (T < 0) return std::nullopt;
    return accuracy_after_task(matrix, T);
}

std::optional<double> weighted_final_accuracy(const AccuracyMatrix& matrix) {
    const int T = matrix.final_task();
    if (T < 0) return std::nullopt;
    int64_t correct = 0, total = 0;
    for (int j = 0; j <= T; ++j) {
        const auto& cell = matrix.at(T, j);
        if (!cell || !cell->has_counts()) return std::nullopt;
        correct += cell->correct;
        total += cell->total;
    }
    return 100.0 * static_cast<double>(correct) / static_cast<double>(total);
}

std::optional<double> average_incremental_accuracy(const AccuracyMatrix& matrix) {
    const int T = matrix.final_task();
    std::vector<std::optional<double>> values;
    for (int t = 0; t <= T; ++t) values.push_back(accuracy_after_task(matrix, t));
    return strict_mean(values);
}

std::optional<double> average_anytime_accuracy(const AccuracyMatrix& matrix) {
    const int T = matrix.final_task();
    std::vector<std::optional<double>> points;
    for (int t = 0; t <= T; ++t) points.push_back(accuracy_after_task(matrix, t));
    for (const auto& point : matrix.in_task_points()) {
        // The same model state as the end-of-task evaluation of its task: counted once, there.
        if (point.task < matrix.num_tasks() && matrix.row_step(point.task) == point.step &&
            matrix.at(point.task, point.task))
            continue;
        double sum = 0.0;
        int count = 0;
        for (int j = 0; j <= point.task && j < static_cast<int>(point.cells.size()); ++j) {
            if (!point.cells[j]) continue;
            sum += point.cells[j]->percent;
            ++count;
        }
        if (count > 0) points.push_back(sum / count);
    }
    return strict_mean(points);
}

std::optional<double> forgetting_max_of_task(const AccuracyMatrix& matrix, int j) {
    const int T = matrix.final_task();
    if (j < 0 || j >= T) return std::nullopt;
    const auto last = percent(matrix.at(T, j));
    if (!last) return std::nullopt;
    std::optional<double> best;
    for (int t = j; t < T; ++t) {
        const auto value = percent(matrix.at(t, j));
        if (!value) return std::nullopt;
        best = best ? std::max(*best, *value) : *value;
    }
    return *best - *last;
}

std::optional<double> forgetting_initial_of_task(const AccuracyMatrix& matrix, int j) {
    const int T = matrix.final_task();
    if (j < 0 || j >= T) return std::nullopt;
    const auto initial = percent(matrix.at(j, j));
    const auto last = percent(matrix.at(T, j));
    if (!initial || !last) return std::nullopt;
    return *initial - *last;
}

std::optional<double> forgetting_max(const AccuracyMatrix& matrix) {
    std::vector<std::optional<double>> values;
    for (int j = 0; j < matrix.final_task(); ++j) values.push_back(forgetting_max_of_task(matrix, j));
    return strict_mean(values);
}

std::optional<double> forgetting_initial(const AccuracyMatrix& matrix) {
    std::vector<std::optional<double>> values;
    for (int j = 0; j < matrix.final_task(); ++j) values.push_back(forgetting_initial_of_task(matrix, j));
    return strict_mean(values);
}

std::optional<double> backward_transfer(const AccuracyMatrix& matrix) {
    const auto forgetting = forgetting_initial(matrix);
    if (!forgetting) return std::nullopt;
    return -*forgetting;
}

std::optional<double> forward_transfer(const AccuracyMatrix& matrix) {
    double sum = 0.0;
    int count = 0;
    for (int j = 0; j < matrix.num_tasks(); ++j) {
        auto before = percent(matrix.before_task(j));
        if (!before && j >= 1) before = percent(matrix.at(j - 1, j));
        const auto random = percent(matrix.random_init(j));
        if (!before || !random) continue;
        sum += *before - *random;
        ++count;
    }
    if (count == 0) return std::nullopt;
    return sum / count;
}

std::vector<std::optional<double>> foundation_accuracy_after_tasks(const AccuracyMatrix& matrix) {
    std::vector<std::optional<double>> values;
    for (int t = 0; t <= matrix.final_task(); ++t) values.push_back(percent(matrix.foundation(t)));
    return values;
}

std::optional<double> foundation_pre_stream(const AccuracyMatrix& matrix) { return percent(matrix.foundation(-1)); }

std::optional<double> foundation_final(const AccuracyMatrix& matrix) {
    const int T = matrix.final_task();
    if (T < 0) return std::nullopt;
    return percent(matrix.foundation(T));
}

std::optional<double> foundation_drop(const AccuracyMatrix& matrix) {
    const auto pre = foundation_pre_stream(matrix);
    const auto last = foundation_final(matrix);
    if (!pre || !last) return std::nullopt;
    return *pre - *last;
}

// ---- all metrics of one run ---------------------------------------------------------------------

const std::vector<MetricInfo>& metric_table() {
    static const std::vector<MetricInfo> table = {
        {"acc", "Final accuracy (Acc)", "Acc = mean_{j≤T} R[T][j]",
         "Mean accuracy over all tasks after the last task, each task weighted equally.", true, &MetricSet::acc},
        {"acc_w", "Weighted final accuracy (Acc_w)", "Acc_w = Σ_{j≤T} correct[T][j] / Σ_{j≤T} total[T][j]",
         "Accuracy over all test samples after the last task (each sample weighted equally), as the SD-LoRA "
         "tables report it.",
         true, &MetricSet::acc_w},
        {"aaa", "Average incremental accuracy (AAA)", "AAA = mean_{t≤T} Acc(t),  Acc(t) = mean_{j≤t} R[t][j]",
         "Mean over the task ends of the average accuracy on the tasks seen so far (SD-LoRA's AAA).", true,
         &MetricSet::aaa},
        {"anytime", "Average anytime accuracy",
         "mean over evaluation points p (in-task and end-of-task) of mean_{j seen at p} acc_p[j]",
         "Like AAA, but also over the evaluations taken inside tasks; equals AAA without in-task evaluations.", true,
         &MetricSet::anytime},
        {"forgetting_max", "Forgetting (max)", "F_max = mean_{j<T} (max_{j≤t<T} R[t][j] − R[T][j])",
         "Drop from the best accuracy ever reached on each earlier task to its final accuracy (arXiv 1801.10112); "
         "positive = forgotten.",
         false, &MetricSet::forgetting_max},
        {"forgetting_initial", "Forgetting (initial)", "F_init = mean_{j<T} (R[j][j] − R[T][j])",
         "Drop from the accuracy right after learning each earlier task to its final accuracy (Avalanche; "
         "arXiv 2405.18069); positive = forgotten.",
         false, &MetricSet::forgetting_initial},
        {"bwt", "Backward transfer (BWT)", "BWT = mean_{j<T} (R[T][j] − R[j][j])",
         "How learning later tasks changed the accuracy on earlier ones; negative = forgotten.", true, &MetricSet::bwt},
        {"fwt", "Forward transfer (FWT)", "FWT = mean_j (R[j−1][j] − R_rand[j])",
         "Accuracy on each task just before training it, relative to a randomly initialised backbone; "
         "averaged over the tasks where both were evaluated.",
         true, &MetricSet::fwt},
        {"foundation_pre", "Foundation accuracy (before stream)", "F(−1)",
         "Accuracy on the pre-training (foundation) task with its own frozen head, before the stream.", true,
         &MetricSet::foundation_pre},
        {"foundation_final", "Foundation accuracy (final)", "F(T)",
         "Accuracy on the foundation task with its own frozen head after the last task.", true,
         &MetricSet::foundation_final},
        {"foundation_drop", "Foundation drop", "F(−1) − F(T)",
         "How much foundation-task accuracy the stream cost; positive = lost.", false, &MetricSet::foundation_drop},
    };
    return table;
}

const MetricInfo& metric_info(std::string_view key) {
    for (const auto& info : metric_table())
        if (info.key == key) return info;
    std::string allowed;
    for (const auto& info : metric_table()) allowed += (allowed.empty() ? "" : ", ") + info.key;
    throw std::invalid_argument("unknown metric '" + std::string(key) + "' (known: " + allowed + ")");
}

std::optional<double> MetricSet::value(std::string_view key) const { return this->*(metric_info(key).member); }

MetricSet compute_metrics(const AccuracyMatrix& matrix) {
    MetricSet m;
    const int T = matrix.final_task();
    m.tasks_seen = T + 1;
    m.acc = final_accuracy(matrix);
    m.acc_w = weighted_final_accuracy(matrix);
    m.aaa = average_incremental_accuracy(matrix);
    m.anytime = average_anytime_accuracy(matrix);
    m.forgetting_max = forgetting_max(matrix);
    m.forgetting_initial = forgetting_initial(matrix);
    m.bwt = backward_transfer(matrix);
    m.fwt = forward_transfer(matrix);
    m.foundation_pre = foundation_pre_stream(matrix);
    m.foundation_final = foundation_final(matrix);
    m.foundation_drop = foundation_drop(matrix);
    for (int t = 0; t <= T; ++t) m.acc_after_task.push_back(accuracy_after_task(matrix, t));
    m.foundation_after_task = foundation_accuracy_after_tasks(matrix);
    return m;
}

// ---- across seeds -------------------------------------------------------------------------------

const MetricAggregate& AggregatedMetrics::get(std::string_view key) const {
    for (const auto& aggregate : metrics)
        if (aggregate.key == key) return aggregate;
    metric_info(key);  // throws the "unknown metric" error
    throw std::invalid_argument("metric '" + std::string(key) + "' was not aggregated");
}

AggregatedMetrics aggregate(const std::vector<MetricSet>& sets) {
    AggregatedMetrics result;
    result.runs = static_cast<int>(sets.size());
    for (const auto& info : metric_table()) {
        MetricAggregate entry;
        entry.key = info.key;
        std::vector<double> values;
        for (const auto& set : sets)
            if (const auto& v = set.*(info.member)) values.push_back(*v);
        entry.n = static_cast<int>(values.size());
        if (!values.empty()) {
            double sum = 0.0;
            for (double v : values) sum += v;
            const double mean = sum / static_cast<double>(values.size());
            double squares = 0.0;
            for (double v : values) squares += (v - mean) * (v - mean);
            entry.mean = mean;
            entry.std = values.size() > 1 ? std::sqrt(squares / static_cast<double>(values.size() - 1)) : 0.0;
        }
        result.metrics.push_back(std::move(entry));
    }
    return result;
}

// ---- text ---------------------------------------------------------------------------------------

namespace {

// Two decimals, never "-0.00".
std::string fixed2(double value) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.2f", value);
    std::string text = buffer;
    if (text == "-0.00") text = "0.00";
    return text;
}

// Display width of UTF-8 text: code points (the names and symbols used here are all single-width).
size_t display_width(std::string_view text) {
    size_t width = 0;
    for (unsigned char c : text)
        if ((c & 0xC0) != 0x80) ++width;
    return width;
}

std::string pad_right(std::string text, size_t width) {
    const size_t w = display_width(text);
    if (w < width) text.append(width - w, ' ');
    return text;
}

std::string pad_left(std::string text, size_t width) {
    const size_t w = display_width(text);
    if (w < width) text.insert(0, width - w, ' ');
    return text;
}

size_t name_width() {
    size_t width = 0;
    for (const auto& info : metric_table()) width = std::max(width, display_width(info.name));
    return width + 2;
}

}  // namespace

std::string format_metrics_table(const MetricSet& metrics) {
    const size_t width = name_width();
    std::string text;
    for (const auto& info : metric_table()) {
        const auto& value = metrics.*(info.member);
        text += pad_right(info.name, width) + pad_left(value ? fixed2(*value) : "n/a", 7) + "\n";
    }
    return text;
}

std::string format_metrics_table(const AggregatedMetrics& metrics) {
    const size_t width = name_width();
    std::string text;
    for (const auto& info : metric_table()) {
        const MetricAggregate* entry = nullptr;
        for (const auto& candidate : metrics.metrics)
            if (candidate.key == info.key) entry = &candidate;
        std::string cell = "n/a";
        if (entry && entry->mean) {
            cell = pad_left(fixed2(*entry->mean), 7) + " ± " + fixed2(entry->std.value_or(0.0));
            if (entry->n != metrics.runs) cell += " (n=" + std::to_string(entry->n) + ")";
        } else {
            cell = pad_left(cell, 7);
        }
        text += pad_right(info.name, width) + cell + "\n";
    }
    return text;
}

std::string format_matrix(const AccuracyMatrix& matrix) {
    const int n = matrix.num_tasks();
    if (n == 0) return "(empty accuracy matrix)\n";
    constexpr size_t kCell = 8;
    const std::string corner = "after \\ task";
    std::string text = pad_right(corner, corner.size());
    for (int j = 0; j < n; ++j) text += pad_left(std::to_string(j), kCell);
    text += "\n";
    const int rows = std::max(matrix.final_task(), 0);
    for (int t = 0; t <= rows; ++t) {
        std::string line = pad_left(std::to_string(t), corner.size());
        for (int j = 0; j < n; ++j) {
            const auto& cell = matrix.at(t, j);
            line += pad_left(cell ? fixed2(cell->percent) : (j <= t ? "-" : ""), kCell);
        }
        while (!line.empty() && line.back() == ' ') line.pop_back();
        text += line + "\n";
    }
    return text;
}

}  // namespace lorica
