#include "cli/report.h"

#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "engine/eval/class_forgetting.h"
#include "engine/eval/contextual_forgetting.h"
#include "engine/eval/low_loss_table.h"
#include "engine/eval/cost_table.h"
#include "engine/store/sweep_summary.h"

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

ResultsTarget parse_results_target(const std::string& text) {
    ResultsTarget target;
    std::string digits = text;
    if (text.rfind("exp:", 0) == 0) {
        target.experiment = true;
        digits = text.substr(4);
    }
    size_t used = 0;
    try {
        target.id = std::stoll(digits, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (digits.empty() || used != digits.size() || target.id <= 0)
        throw std::invalid_argument("'" + text + "' is neither a run id (e.g. 12) nor an experiment (e.g. exp:3)");
    return target;
}

std::vector<int64_t> target_run_ids(const RunStore& store, const ResultsTarget& target) {
    std::vector<int64_t> ids;
    if (!target.experiment) {
        if (!store.run(target.id))
            throw std::runtime_error("no run " + std::to_string(target.id) + " in " + store.path() +
                                     " (see `lorica-cli runs`)");
        return {target.id};
    }
    if (!store.experiment(target.id))
        throw std::runtime_error("no experiment " + std::to_string(target.id) + " in " + store.path() +
                                 " (see `lorica-cli runs`)");
    for (const auto& r : store.runs_of_experiment(target.id)) ids.push_back(r.id);
    return ids;
}

MetricSet run_metrics(const RunStore& store, int64_t run_id, HeadMode mode) {
    auto run = store.run(run_id);
    return compute_metrics(AccuracyMatrix::from_eval_rows(rows_of(store, run_id), mode, run ? run->num_tasks : 0));
}

std::string run_report(const RunStore& store, int64_t run_id, bool with_config) {
    auto run = store.run(run_id);
    if (!run) throw std::runtime_error("no run " + std::to_string(run_id) + " in " + store.path());
    std::ostringstream os;
    os << "run " << run->id << "  method " << run->method;
    if (!run->variant.empty()) os << "  variant " << run->variant;
    os << "  seed " << run->seed << "  status " << to_string(run->status) << "\n  started " << run->started_at
       << "  ended " << (run->ended_at.empty() ? "-" : run->ended_at) << "  (" << run->seconds << " s)  device "
       << run->device << "  LibTorch " << run->torch_version << "  Lorica " << run->lorica_version << "\n";
    if (!run->message.empty()) os << "  message: " << run->message << "\n";
    for (const auto& t : store.tasks(run_id)) {
        os << "  "
           << (t.info.task == kFoundationTask ? std::string("foundation") : "task " + std::to_string(t.info.task))
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
    os << cost_report(store, run_id);
    os << class_forgetting_report(store, run_id);
    return os.str();
}

std::string cost_report(const RunStore& store, int64_t run_id) {
    return "\ncost (SD-LoRA's Table 5) after each task: inference GFLOPs per image (multiply-add = 2 FLOPs; "
           "backbone and stream heads, adapters folded), learnable = the method's trained parameters on the task "
           "(heads excluded), stored params / stored features = what the method keeps (scalars)\n" +
           format_cost_table(run_cost(store.method_state(run_id)));
}

std::string class_forgetting_report(const RunStore& store, int64_t run_id) {
    auto run = store.run(run_id);
    if (!run) return {};
    std::vector<ClassEvalRow> rows;
    for (const auto& r : store.class_eval_rows(run_id)) rows.push_back(r.row);
    const ClassForgettingTable table = foundation_class_forgetting(rows, run->facts.class_names);
    if (table.empty()) return {};
    return "\nfoundation task per class: accuracy (%) before the stream (pre) and after each task (in brackets: "
           "change from pre); drop = pre − final; newly wrong = samples right before the task and wrong after it\n" +
           format_class_forgetting(table);
}

std::string contextual_forgetting_report(const RunStore& store, int64_t run_id) {
    auto run = store.run(run_id);
    if (!run) throw std::runtime_error("no run " + std::to_string(run_id) + " in " + store.path());
    std::vector<ClassEvalRow> rows;
    for (const auto& r : store.class_eval_rows(run_id)) rows.push_back(r.row);
    const ContextualForgetting analysis = contextual_forgetting(
        store.analysis_points(run_id, AnalysisKey::class_similarity), rows, run->facts.class_names);
    return "run " + std::to_string(run_id) + " (" + run->method + ", seed " + std::to_string(run->seed) + ")\n" +
           format_contextual_forgetting(analysis);
}

std::string low_loss_region_report(const RunStore& store, int64_t run_id) {
    const auto low_loss_run = store.run(run_id);
    if (!low_loss_run) throw std::runtime_error("no run " + std::to_string(run_id) + " in " + store.path());
    return "run " + std::to_string(run_id) + " (" + low_loss_run->method + ", seed " +
           std::to_string(low_loss_run->seed) + "): low-loss region\n" +
           format_low_loss_table(low_loss_table(store.analysis_points(run_id)));
}

std::string experiment_report(const RunStore& store, int64_t experiment_id) {
    auto experiment = store.experiment(experiment_id);
    if (!experiment) throw std::runtime_error("no experiment " + std::to_string(experiment_id) + " in " + store.path());
    std::ostringstream os;
    const auto variants = summarize_variants(store, experiment_id);
    size_t runs = 0;
    for (const auto& v : variants) runs += v.run_ids.size();
    os << "\nexperiment " << experiment->id << " '" << experiment->name << "' (config " << experiment->config_hash
       << ", created " << experiment->created_at << "): " << variants.size() << " variant(s), " << runs << " run(s)\n"
       << "metrics in % (mean ± std over seeds; class-IL unless the stream is task-incremental); wall time = all "
          "seeds\n"
       << format_variant_table(variants);
    const auto sweep = rank_sweep_table(store, experiment_id);
    if (!sweep.empty())
        os << "\nrank sweep: forgetting against LoRA rank (percentage points, mean ± std over seeds)\n"
           << format_rank_sweep_table(sweep);
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
        os << "\nmetrics over " << sets.size() << " finished run(s), " << to_string(mode)
           << " (mean ± std over seeds)\n"
           << format_metrics_table(aggregate(sets));
    }
    return os.str();
}

}  // namespace lorica::cli
