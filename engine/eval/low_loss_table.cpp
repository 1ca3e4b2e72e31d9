#include "engine/eval/low_loss_table.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "engine/eval/text_table.h"

namespace lorica {
namespace {

constexpr double kLowLossNaN = std::numeric_limits<double>::quiet_NaN();

std::string low_loss_cell(double value) { return std::isnan(value) ? "-" : fixed_2(value); }

std::string low_loss_matrix_text(const std::vector<std::vector<double>>& m, const std::string& corner,
                                 const std::string& column_prefix) {
    std::vector<std::string> header = {corner};
    for (size_t j = 0; j < m.size(); ++j) header.push_back(column_prefix + std::to_string(j));
    std::vector<std::vector<std::string>> rows;
    for (size_t i = 0; i < m.size(); ++i) {
        std::vector<std::string> row = {std::to_string(i)};
        for (double v : m[i]) row.push_back(low_loss_cell(v));
        rows.push_back(std::move(row));
    }
    return format_text_table(header, rows);
}

}  // namespace

bool is_low_loss_key(AnalysisKey key) {
    return key == AnalysisKey::low_loss_region || key == AnalysisKey::low_loss_ratio ||
           key == AnalysisKey::low_loss_continual;
}

LowLossTable low_loss_table(const std::vector<AnalysisPoint>& points) {
    LowLossTable t;
    int highest = -1;
    auto index_of = [](double x) { return static_cast<int>(std::llround(x)); };
    for (const auto& p : points) {
        if (!is_low_loss_key(p.analysis)) continue;
        highest = std::max(highest, index_of(p.x));
        if (p.series.is_task()) highest = std::max(highest, p.series.task);
    }
    if (highest < 0) return t;
    const size_t n = static_cast<size_t>(highest) + 1;
    t.tasks = static_cast<int>(n);
    const std::vector<double> row(n, kLowLossNaN);
    t.distance.assign(n, row);
    t.ratio.assign(n, row);
    t.continual.assign(n, row);
    t.optimum_from_start = row;
    t.continual_from_start = row;
    for (const auto& p : points) {
        if (!is_low_loss_key(p.analysis)) continue;
        const int x = index_of(p.x);
        if (x < 0) continue;
        const bool from_start = p.series.kind == SeriesKey::Kind::from_start;
        if (!from_start && !(p.series.is_task() && p.series.task >= 0)) continue;
        const int i = p.series.task;
        switch (p.analysis) {
            case AnalysisKey::low_loss_region:
                (from_start ? t.optimum_from_start[x] : t.distance[i][x]) = p.y;
                break;
            case AnalysisKey::low_loss_ratio:
                if (!from_start) t.ratio[i][x] = p.y;
                break;
            case AnalysisKey::low_loss_continual:
                (from_start ? t.continual_from_start[x] : t.continual[x][i]) = p.y;
                break;
            default:
                break;
        }
    }
    return t;
}

std::string format_low_loss_table(const LowLossTable& table) {
    if (table.empty())
        return "no low-loss-region points (run with analysis.low_loss_region = true: each task is also "
               "fine-tuned alone from the starting weights W0)\n";
    std::ostringstream os;
    os << "distance between the tasks' optima ||W*_i - W*_j||_F (row i, column j; each task fine-tuned alone "
          "from W0)\n"
       << low_loss_matrix_text(table.distance, "i", "j=")
       << "\nratio ||W*_i - W*_j||_F / mean(||W*_i - W0||_F, ||W*_j - W0||_F) (below 1: the optima lie closer "
          "to each other than to W0)\n"
       << low_loss_matrix_text(table.ratio, "i", "j=")
       << "\ncontinual weights after task t against each optimum ||W_t - W*_i||_F (row t, column i)\n"
       << low_loss_matrix_text(table.continual, "t", "i=") << "\ndistance to the starting weights W0\n";
    std::vector<std::vector<std::string>> rows;
    for (int k = 0; k < table.tasks; ++k)
        rows.push_back({std::to_string(k), low_loss_cell(table.optimum_from_start[k]),
                        low_loss_cell(table.continual_from_start[k])});
    os << format_text_table({"task", "||W*_task - W0||_F", "||W_task - W0||_F"}, rows);
    return os.str();
}

}  // namespace lorica
