#include "engine/eval/class_forgetting.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/eval/text_table.h"

namespace lorica {

ClassForgettingTable foundation_class_forgetting(const std::vector<ClassEvalRow>& rows,
                                                 const std::vector<std::string>& class_names) {
    int last_task = -1;
    std::map<int, std::map<int, ClassEvalRow>> by_class;  // class → after_task → row (later rows win)
    for (const auto& r : rows) {
        if (r.eval_task != kFoundationTask || r.after_task < -1) continue;
        by_class[r.class_id][r.after_task] = r;
        last_task = std::max(last_task, r.after_task);
    }
    ClassForgettingTable table;
    table.tasks = last_task + 1;
    auto percent = [](const ClassEvalRow& r) -> std::optional<double> {
        if (r.total <= 0) return std::nullopt;
        return 100.0 * static_cast<double>(r.correct) / static_cast<double>(r.total);
    };
    for (const auto& [class_id, by_task] : by_class) {
        ClassForgettingRow row;
        row.class_id = class_id;
        row.class_name = class_id >= 0 && class_id < static_cast<int>(class_names.size()) ? class_names[class_id]
                                                                                          : std::to_string(class_id);
        if (auto it = by_task.find(-1); it != by_task.end()) row.pre = percent(it->second);
        row.accuracy.assign(table.tasks, std::nullopt);
        row.drop.assign(table.tasks, std::nullopt);
        row.newly_wrong.assign(table.tasks, -1);
        row.lost_since_start.assign(table.tasks, -1);
        for (const auto& [t, r] : by_task) {
            row.samples = r.total;
            if (t < 0) continue;
            row.accuracy[t] = percent(r);
            if (row.pre && row.accuracy[t]) row.drop[t] = *row.pre - *row.accuracy[t];
            row.newly_wrong[t] = r.newly_wrong;
            row.lost_since_start[t] = r.lost_since_start;
        }
        table.rows.push_back(std::move(row));
    }
    return table;
}

std::string format_class_forgetting(const ClassForgettingTable& table) {
    if (table.empty()) return "(no per-class rows of the foundation task)\n";
    bool has_lost = false, has_lost_since_start = false;
    for (const auto& r : table.rows) {
        for (int64_t n : r.newly_wrong) has_lost = has_lost || n >= 0;
        for (int64_t n : r.lost_since_start) has_lost_since_start = has_lost_since_start || n >= 0;
    }
    std::vector<std::string> header = {"class", "pre"};
    for (int t = 0; t < table.tasks; ++t) header.push_back("after t" + std::to_string(t));
    header.push_back("drop");
    if (has_lost) header.push_back("newly wrong per task");
    if (has_lost_since_start) header.push_back("lost since start");
    std::vector<std::vector<std::string>> cells;
    for (const auto& r : table.rows) {
        std::vector<std::string> row = {std::to_string(r.class_id) + " " + r.class_name, r.pre ? fixed_2(*r.pre) : "-"};
        for (int t = 0; t < table.tasks; ++t) {
            std::string cell = r.accuracy[t] ? fixed_2(*r.accuracy[t]) : "-";
            if (r.drop[t])
                cell += " (" + std::string(*r.drop[t] >= 0 ? "-" : "+") + fixed_2(std::abs(*r.drop[t])) + ")";
            row.push_back(cell);
        }
        const auto& last_drop = table.tasks > 0 ? r.drop.back() : std::optional<double>();
        row.push_back(last_drop ? fixed_2(*last_drop) : "-");
        if (has_lost) {
            std::string lost;
            for (int t = 0; t < table.tasks; ++t)
                lost +=
                    (t ? " / " : "") + (r.newly_wrong[t] >= 0 ? std::to_string(r.newly_wrong[t]) : std::string("-"));
            row.push_back(lost);
        }
        if (has_lost_since_start) {
            const int64_t final_lost = table.tasks > 0 ? r.lost_since_start.back() : -1;
            row.push_back(final_lost >= 0 ? std::to_string(final_lost) : "-");
        }
        cells.push_back(std::move(row));
    }
    return format_text_table(header, cells);
}

}  // namespace lorica
