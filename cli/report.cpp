#include "cli/report.h"

#include <sstream>

#include <nlohmann/json.hpp>

namespace lorica::cli {
namespace {

std::vector<EvalRow> rows_of(const RunStore& store, int64_t run_id) {
    std::vector<EvalRow> rows;
    for (const auto& r : store.eval_rows(run_id)) rows.push_back(r.row);
    return rows;
}

bool has_mode(const std::vector<EvalRow>& rows, HeadMode mode) {
    for (const auto& r : rows)
        if (r.head_mode == mode && r.eval_task >= 0) return true;
    return false;
}

}  // namespace

MetricSet run_metrics(const RunStore& store, int64_t run_id, HeadMode mode) {
    auto run = store.run(run_id);
    return compute_metrics(AccuracyMatrix::from_eval_rows(rows_of(store, run_id), mode, run ? run->num_tasks : 0));
}

std::string run_report(const RunStore& store, int64_t run_id, bool with_config) {
    auto run = store.run(run_id);
    if (!run) throw std::runtime_error("no run " + std::to_string(run_id) + " in " + store.path());
    std::ostringstream os;
    os << "run " << run->id << "  method " << run->method << "  seed " << run->seed << "  status " << to_string(run->status)
       << "\n  started " << run->started_at << "  ended " << (run->ended_at.empty() ? "-" : run->ended_at) << "  ("
       << run->seconds << " s)  device " << run->device << "  LibTorch " << run->torch_version << "  Lorica "
       << run->lorica_version << "\n";
    if (!run->message.empty()) os << "  message: " << run->message << "\n";
    for (const auto& t : store.tasks(run_id)) {
        os << "  " << (t.info.task == kFoundationTask ? std::string("foundation") : "task " + std::to_string(t.info.task))
           << ": " << t.info.name << "  train " << t.info.train_samples << "  test " << t.info.test_samples;
        if (t.trainable_parameters > 0) os << "  trainable " << t.trainable_parameters;
        os << "\n";
    }
    if (with_config) {
        try {
            os << "config:\n" << nlohmann::json::parse(run->config_json).dump(2) << "\n";
        } catch (...) {
            os << "config: " << run->config_json << "\n";
        }
    }
    const auto rows = rows_of(store, run_id);
    for (HeadMode mode : {HeadMode::class_il, HeadMode::task_il}) {
        if (!has_mode(rows, mode)) continue;
        auto matrix = AccuracyMatrix::from_eval_rows(rows, mode, run->num_tasks);
        os << "\naccuracy matrix R[t][j] (" << to_string(mode) << ", %; row = after task t, column = task j)\n"
           << format_matrix(matrix) << "\nmetrics (" << to_string(mode) << ")\n"
           << format_metrics_table(compute_metrics(matrix));
    }
    return os.str();
}

std::string runs_summary(const RunStore& store, const std::vector<int64_t>& run_ids) {
    std::ostringstream os;
    for (HeadMode mode : {HeadMode::class_il, HeadMode::task_il}) {
        std::vector<MetricSet> sets;
        for (int64_t id : run_ids) {
            auto run = store.run(id);
            if (!run || run->status != RunStatus::finished) continue;
            if (!has_mode(rows_of(store, id), mode)) continue;
            sets.push_back(run_metrics(store, id, mode));
        }
        if (sets.empty()) continue;
        os << "\nmetrics over " << sets.size() << " finished run(s), " << to_string(mode) << " (mean ± std over seeds)\n"
           << format_metrics_table(aggregate(sets));
    }
    return os.str();
}

}  // namespace lorica::cli
