#include "engine/eval/cost_table.h"

#include <cmath>
#include <cstdio>
#include <map>

#include "engine/eval/text_table.h"

namespace lorica {

const std::array<CostColumnInfo, kCostColumns>& cost_columns() {
    static const std::array<CostColumnInfo, kCostColumns> columns{{
        {CostColumn::inference_gflops, StateKey::inference_gflops, "inference_gflops", "GFLOPs/img",
         "Inference GFLOPs per image",
         "Inference GFLOPs per image (10⁹ FLOPs, a multiply-add = 2): backbone and stream heads, adapter terms "
         "folded into the weights as the run evaluates."},
        {CostColumn::learnable_params, StateKey::trainable_params, "learnable_params", "learnable",
         "Learnable parameters per task",
         "Learnable parameters per task: scalars the method trained on the task (heads excluded)."},
        {CostColumn::stored_params, StateKey::stored_params, "stored_params", "stored params", "Stored parameters",
         "Stored parameters: scalars the method keeps after the task beyond the backbone's weights (adapters, "
         "masks, magnitudes, bases, Fisher diagonals, weight snapshots)."},
        {CostColumn::stored_features, StateKey::stored_features, "stored_features", "stored features",
         "Stored features",
         "Stored features: scalars of feature statistics kept for later tasks (InfLoRA's and DualGPM's "
         "input-feature bases, feature means)."},
    }};
    return columns;
}

bool CostRow::empty() const {
    for (const auto& v : values)
        if (v) return false;
    return true;
}

CostRow RunCost::final_row() const { return tasks.empty() ? CostRow{} : tasks.back(); }

RunCost run_cost(const std::vector<MethodState>& states) {
    std::map<int, CostRow> by_task;
    for (const MethodState& s : states) {
        if (s.values.empty()) continue;
        for (const CostColumnInfo& info : cost_columns()) {
            if (info.key != s.key) continue;
            CostRow& row = by_task[s.task];
            row.task = s.task;
            row[info.column] = s.values.front();
        }
    }
    RunCost out;
    for (auto& [task, row] : by_task) out.tasks.push_back(row);
    return out;
}

CostRow mean_cost(const std::vector<CostRow>& rows) {
    CostRow out;
    for (size_t c = 0; c < kCostColumns; ++c) {
        double sum = 0.0;
        int n = 0;
        for (const CostRow& r : rows)
            if (r.values[c] && std::isfinite(*r.values[c])) {
                sum += *r.values[c];
                ++n;
            }
        if (n > 0) out.values[c] = sum / n;
    }
    return out;
}

std::string format_cost(CostColumn column, const std::optional<double>& value) {
    if (!value || !std::isfinite(*value)) return kMissingCost;
    char buffer[64];
    if (column == CostColumn::inference_gflops) {
        std::snprintf(buffer, sizeof buffer, "%.4g", *value);
        return buffer;
    }
    const long long n = std::llround(*value);
    std::snprintf(buffer, sizeof buffer, "%lld", n < 0 ? -n : n);
    std::string digits = buffer, grouped;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) grouped += ',';
        grouped += digits[i];
    }
    return (n < 0 ? "-" : "") + grouped;
}

std::string format_cost_table(const RunCost& cost) {
    if (cost.empty())
        return std::string("no cost recorded (") + kMissingCost + "): the run ended before its first task, " +
               "or was written by a Lorica without the cost keys\n";
    std::vector<std::string> header = {"after task"};
    for (const CostColumnInfo& info : cost_columns()) header.push_back(info.short_name);
    std::vector<std::vector<std::string>> rows;
    for (const CostRow& r : cost.tasks) {
        std::vector<std::string> row = {std::to_string(r.task)};
        for (const CostColumnInfo& info : cost_columns()) row.push_back(format_cost(info.column, r[info.column]));
        rows.push_back(std::move(row));
    }
    return format_text_table(header, rows, 1);
}

}  // namespace lorica
