#include "engine/store/sweep_summary.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "engine/eval/cost_table.h"
#include "engine/eval/text_table.h"
#include "engine/vocabulary/analysis_keys.h"

namespace lorica {
namespace {

MetricAggregate aggregate_values(const std::string& key, const std::vector<double>& values) {
    MetricAggregate a;
    a.key = key;
    a.n = static_cast<int>(values.size());
    if (values.empty()) return a;
    double sum = 0.0;
    for (double v : values) sum += v;
    const double mean = sum / values.size();
    double squares = 0.0;
    for (double v : values) squares += (v - mean) * (v - mean);
    a.mean = mean;
    a.std = values.size() > 1 ? std::sqrt(squares / (values.size() - 1)) : 0.0;
    return a;
}

std::string format_seconds(double seconds) {
    const long s = std::lround(seconds);
    char buffer[32];
    if (s >= 3600)
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else
        std::snprintf(buffer, sizeof buffer, "%ld:%02ld", s / 60, s % 60);
    return buffer;
}

}  // namespace

std::vector<AnalysisPoint> rank_sweep_points(const std::vector<EvalRow>& rows, int num_tasks, double rank,
                                             HeadMode mode) {
    const MetricSet m = compute_metrics(AccuracyMatrix::from_eval_rows(rows, mode, num_tasks));
    std::vector<AnalysisPoint> points;
    if (m.foundation_drop)
        points.push_back({AnalysisKey::rank_sweep, kSeriesFoundationForgetting, rank, *m.foundation_drop});
    if (m.forgetting_initial)
        points.push_back({AnalysisKey::rank_sweep, kSeriesDownstreamForgetting, rank, *m.forgetting_initial});
    return points;
}

MetricSet stored_run_metrics(const RunStore& store, int64_t run_id, HeadMode mode) {
    auto run = store.run(run_id);
    std::vector<EvalRow> rows;
    for (const auto& r : store.eval_rows(run_id)) rows.push_back(r.row);
    return compute_metrics(AccuracyMatrix::from_eval_rows(rows, mode, run ? run->num_tasks : 0));
}

std::vector<VariantSummary> summarize_variants(const RunStore& store, int64_t experiment_id) {
    std::map<int, VariantSummary> by_index;
    std::map<int, std::vector<MetricSet>> sets;
    std::map<int, std::vector<CostRow>> costs;
    for (const auto& run : store.runs_of_experiment(experiment_id)) {
        VariantSummary& v = by_index[run.variant_index];
        if (v.run_ids.empty()) {
            v.index = run.variant_index;
            v.label = run.variant;
            v.method = run.method;
        }
        v.run_ids.push_back(run.id);
        v.seconds += run.seconds;
        if (run.status != RunStatus::finished) continue;
        ++v.finished;
        costs[run.variant_index].push_back(run_cost(store.method_state(run.id)).final_row());
        sets[run.variant_index].push_back(stored_run_metrics(store, run.id, run.facts.primary_head_mode));
    }
    std::vector<VariantSummary> out;
    for (auto& [index, v] : by_index) {
        v.metrics = aggregate(sets[index]);
        v.cost = mean_cost(costs[index]);
        out.push_back(std::move(v));
    }
    return out;
}

std::string format_mean_std(const MetricAggregate& a, int runs) {
    if (a.n == 0 || !a.mean) return "n/a";
    std::string text = fixed_2(*a.mean) + " ± " + fixed_2(a.std.value_or(0.0));
    if (a.n != runs) text += " (n=" + std::to_string(a.n) + ")";
    return text;
}

std::string format_variant_table(const std::vector<VariantSummary>& variants) {
    const std::vector<std::string> keys = {
        "acc", "aaa", "forgetting_max", "bwt", "foundation_final", "foundation_drop"};
    std::vector<std::string> header = {
        "variant",          "method",          "runs",     "Acc", "AAA", "forgetting (max)", "BWT",
        "foundation final", "foundation drop", "wall time"};
    for (const CostColumnInfo& info : cost_columns()) header.push_back(info.short_name);
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : variants) {
        std::vector<std::string> row = {v.label.empty() ? "(base)" : v.label, v.method,
                                        std::to_string(v.finished) + "/" + std::to_string(v.run_ids.size())};
        for (const auto& key : keys) row.push_back(format_mean_std(v.metrics.get(key), v.metrics.runs));
        row.push_back(format_seconds(v.seconds));
        for (const CostColumnInfo& info : cost_columns()) row.push_back(format_cost(info.column, v.cost[info.column]));
        rows.push_back(std::move(row));
    }
    return format_text_table(header, rows, 2);
}

std::string rank_sweep_group(const std::string& variant_label) {
    // Labels are ", "-joined components (experiment_variants.cpp); the sweep's is "rank=<value>".
    std::string out;
    size_t start = 0;
    while (start <= variant_label.size()) {
        size_t end = variant_label.find(", ", start);
        if (end == std::string::npos) end = variant_label.size();
        const std::string part = variant_label.substr(start, end - start);
        if (part.rfind("rank=", 0) != 0 && !part.empty()) out += (out.empty() ? "" : ", ") + part;
        start = end + 2;
    }
    return out;
}

std::vector<RankSweepRow> rank_sweep_rows(const std::vector<RankSweepRun>& runs) {
    struct Values {
        std::vector<double> foundation, downstream;
    };
    std::vector<std::string> groups;  // in the order of the runs (variant order)
    std::map<std::pair<size_t, double>, Values> by_group_rank;
    for (const RankSweepRun& run : runs) {
        const std::string group = rank_sweep_group(run.variant);
        const size_t g = static_cast<size_t>(std::find(groups.begin(), groups.end(), group) - groups.begin());
        if (g == groups.size()) groups.push_back(group);
        for (const auto& p : run.points) {
            if (p.analysis != AnalysisKey::rank_sweep || !std::isfinite(p.y)) continue;
            if (p.series == kSeriesFoundationForgetting)
                by_group_rank[{g, p.x}].foundation.push_back(p.y);
            else if (p.series == kSeriesDownstreamForgetting)
                by_group_rank[{g, p.x}].downstream.push_back(p.y);
        }
    }
    std::vector<RankSweepRow> rows;
    for (const auto& [key, values] : by_group_rank)
        rows.push_back({groups[key.first], key.second,
                        aggregate_values(name_of(kSeriesFoundationForgetting), values.foundation),
                        aggregate_values(name_of(kSeriesDownstreamForgetting), values.downstream)});
    return rows;
}

std::vector<RankSweepRow> rank_sweep_table(const RunStore& store, int64_t experiment_id) {
    std::vector<RankSweepRun> runs;
    for (const auto& run : store.runs_of_experiment(experiment_id))
        runs.push_back({run.variant, store.analysis_points(run.id, AnalysisKey::rank_sweep)});
    return rank_sweep_rows(runs);
}

std::string format_rank_sweep_table(const std::vector<RankSweepRow>& rows) {
    const bool grouped = std::any_of(rows.begin(), rows.end(), [](const RankSweepRow& r) { return !r.group.empty(); });
    std::vector<std::vector<std::string>> cells;
    for (const auto& r : rows) {
        char rank[32];
        std::snprintf(rank, sizeof rank, "%g", r.rank);
        const int runs = std::max(r.foundation_forgetting.n, r.downstream_forgetting.n);
        std::vector<std::string> row = {rank, format_mean_std(r.foundation_forgetting, runs),
                                        format_mean_std(r.downstream_forgetting, runs), std::to_string(runs)};
        if (grouped) row.insert(row.begin(), r.group);
        cells.push_back(std::move(row));
    }
    std::vector<std::string> header = {"rank", "foundation forgetting (%)", "downstream forgetting (init, %)", "seeds"};
    if (grouped) header.insert(header.begin(), "variant");
    return format_text_table(header, cells);
}

}  // namespace lorica
