#include "engine/store/results_export.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>

#include "engine/eval/accuracy_matrix.h"
#include "engine/eval/class_forgetting.h"
#include "engine/eval/contextual_forgetting.h"
#include "engine/eval/low_loss_table.h"
#include "engine/eval/cost_table.h"
#include "engine/eval/metrics.h"
#include "engine/store/low_loss_export.h"
#include "engine/store/sweep_summary.h"

namespace lorica {
namespace {

using nlohmann::json;

std::string number(double value) {
    if (!std::isfinite(value)) return {};
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    return buffer;
}
std::string number(const std::optional<double>& value) { return value ? number(*value) : std::string(); }
std::string integer(int64_t value) { return std::to_string(value); }

json json_number(double value) { return std::isfinite(value) ? json(value) : json(nullptr); }
json json_number(const std::optional<double>& value) { return value ? json_number(*value) : json(nullptr); }

std::string quoted(const std::string& cell) {
    if (cell.find_first_of(",\"\r\n") == std::string::npos) return cell;
    std::string out = "\"";
    for (char c : cell) {
        if (c == '"') out += '"';
        out += c;
    }
    return out + "\"";
}

json matrix_json(const AccuracyMatrix& m) {
    json rows = json::array();
    for (int t = 0; t <= m.final_task(); ++t) {
        json row = json::array();
        for (int j = 0; j < m.num_tasks(); ++j) row.push_back(m.at(t, j) ? json(m.at(t, j)->percent) : json(nullptr));
        rows.push_back(row);
    }
    return rows;
}

// {"inference_gflops": ..., "learnable_params": ..., "stored_params": ..., "stored_features": ...},
// null where not recorded.
json cost_json(const CostRow& row) {
    json out = json::object();
    for (const CostColumnInfo& info : cost_columns()) out[info.json_key] = json_number(row[info.column]);
    return out;
}

}  // namespace

const CsvTable& ResultsExport::table(const std::string& name) const {
    for (const auto& t : tables)
        if (t.name == name) return t;
    throw std::out_of_range("no exported table named '" + name + "'");
}

ResultsExport export_results(const RunStore& store, const std::vector<int64_t>& run_ids) {
    ResultsExport out;
    CsvTable runs{"runs",
                  {"run_id", "experiment_id", "variant_index", "variant", "sweep_field", "sweep_value", "seed",
                   "method", "status", "seconds", "num_tasks", "started_at", "ended_at"},
                  {}};
    CsvTable acc_class{"accuracy_class_il", {"run_id", "after_task", "eval_task", "accuracy", "correct", "total"}, {}};
    CsvTable acc_task{"accuracy_task_il", acc_class.header, {}};
    CsvTable evaluations{
        "evaluations",
        {"run_id", "after_task", "eval_task", "step", "phase", "head_mode", "accuracy", "correct", "total"},
        {}};
    CsvTable metrics{"metrics", {"run_id", "head_mode", "metric", "value"}, {}};
    CsvTable loss{"loss", {"run_id", "task", "epoch", "step", "step_in_task", "loss", "lr", "step_ms"}, {}};
    CsvTable state{"method_state", {"run_id", "task", "step", "key", "index", "value"}, {}};
    CsvTable analyses{"analyses", {"run_id", "analysis", "series", "x", "y"}, {}};
    CsvTable classes{"foundation_classes",
                     {"run_id", "after_task", "class_id", "class_name", "accuracy", "correct", "total", "newly_wrong",
                      "lost_since_start"},
                     {}};
    CsvTable cf_classes{"contextual_forgetting",
                        {"run_id", "task", "class_id", "class_name", "similarity", "lost_since_start", "samples"},
                        {}};
    CsvTable cf_density{"contextual_forgetting_density",
                        {"run_id", "task", "bin_low", "bin_high", "lost_density", "class_density"},
                        {}};
    CsvTable cf_summary{"contextual_forgetting_summary",
                        {"run_id", "task", "lost", "samples", "lost_mean_similarity", "class_mean_similarity"},
                        {}};
    CsvTable cost{"cost", {"run_id", "task"}, {}};
    for (const CostColumnInfo& info : cost_columns()) cost.header.push_back(info.json_key);
    LowLossTables low_loss_tables;  // low_loss_region, low_loss_continual, low_loss_from_start
    CsvTable variants{"variant_metrics", {"variant_index", "variant", "metric", "runs", "n", "mean", "std"}, {}};

    json doc = {{"format", 1}, {"database", store.path()}, {"runs", json::array()}, {"variants", json::array()}};
    std::set<int64_t> experiments;
    for (int64_t id : run_ids) {
        auto run = store.run(id);
        if (!run) throw std::runtime_error("no run " + std::to_string(id) + " in " + store.path());
        experiments.insert(run->experiment_id);
        const std::string rid = integer(id);
        runs.rows.push_back({rid, integer(run->experiment_id), integer(run->variant_index), run->variant,
                             run->sweep_field, run->sweep_value, integer(run->seed), run->method,
                             to_string(run->status), number(run->seconds), integer(run->num_tasks), run->started_at,
                             run->ended_at});
        json jr = {{"run_id", id},
                   {"experiment_id", run->experiment_id},
                   {"variant_index", run->variant_index},
                   {"variant", run->variant},
                   {"sweep_field", run->sweep_field},
                   {"sweep_value", run->sweep_value},
                   {"seed", run->seed},
                   {"method", run->method},
                   {"status", to_string(run->status)},
                   {"seconds", run->seconds},
                   {"num_tasks", run->num_tasks},
                   {"started_at", run->started_at},
                   {"ended_at", run->ended_at}};
        try {
            jr["config"] = json::parse(run->config_json);
        } catch (const std::exception&) {
            jr["config"] = run->config_json;
        }
        json tasks = json::array();
        for (const auto& t : store.tasks(id))
            tasks.push_back({{"task", t.info.task},
                             {"name", t.info.name},
                             {"classes", t.info.classes},
                             {"domain", t.info.domain},
                             {"train_samples", t.info.train_samples},
                             {"test_samples", t.info.test_samples},
                             {"seconds", t.seconds}});
        jr["tasks"] = tasks;

        std::vector<EvalRow> rows;
        json jevals = json::array();
        for (const auto& r : store.eval_rows(id)) {
            rows.push_back(r.row);
            const EvalRow& e = r.row;
            const std::string pct = e.total > 0 ? number(100.0 * double(e.correct) / double(e.total)) : std::string();
            evaluations.rows.push_back({rid, integer(e.after_task), integer(e.eval_task), integer(e.step),
                                        to_string(e.phase), to_string(e.head_mode), pct, integer(e.correct),
                                        integer(e.total)});
            jevals.push_back({{"after_task", e.after_task},
                              {"eval_task", e.eval_task},
                              {"step", e.step},
                              {"phase", to_string(e.phase)},
                              {"head_mode", to_string(e.head_mode)},
                              {"correct", e.correct},
                              {"total", e.total}});
        }
        jr["evaluations"] = jevals;
        json jacc = json::object(), jmetrics = json::object();
        for (HeadMode mode : {HeadMode::class_il, HeadMode::task_il}) {
            CsvTable& table = mode == HeadMode::class_il ? acc_class : acc_task;
            bool any = false;
            for (const auto& e : rows) any = any || (e.head_mode == mode && e.eval_task >= 0);
            if (!any) continue;
            const AccuracyMatrix m = AccuracyMatrix::from_eval_rows(rows, mode, run->num_tasks);
            auto put = [&](int t, int j, const OptionalCell& cell) {
                if (!cell) return;
                table.rows.push_back({rid, integer(t), integer(j), number(cell->percent),
                                      cell->has_counts() ? integer(cell->correct) : "",
                                      cell->has_counts() ? integer(cell->total) : ""});
            };
            for (int t = -1; t <= m.final_task(); ++t) put(t, kFoundationTask, m.foundation(t));
            for (int t = 0; t <= m.final_task(); ++t)
                for (int j = 0; j < m.num_tasks(); ++j) put(t, j, m.at(t, j));
            jacc[to_string(mode)] = matrix_json(m);
            const MetricSet set = compute_metrics(m);
            json jm = json::object();
            for (const auto& info : metric_table()) {
                metrics.rows.push_back({rid, to_string(mode), info.key, number(set.*(info.member))});
                jm[info.key] = json_number(set.*(info.member));
            }
            jmetrics[to_string(mode)] = jm;
        }
        jr["accuracy"] = jacc;
        jr["metrics"] = jmetrics;

        json jloss = json::array();
        for (const auto& s : store.step_metrics(id)) {
            loss.rows.push_back({rid, integer(s.task), integer(s.epoch), integer(s.step), integer(s.step_in_task),
                                 number(s.loss), number(s.lr), number(s.step_ms)});
            jloss.push_back({{"task", s.task},
                             {"epoch", s.epoch},
                             {"step", s.step},
                             {"step_in_task", s.step_in_task},
                             {"loss", json_number(s.loss)},
                             {"lr", json_number(s.lr)},
                             {"step_ms", json_number(s.step_ms)}});
        }
        jr["loss"] = jloss;

        json jstate = json::array();
        for (const auto& m : store.method_state(id)) {
            json values = json::array();
            for (size_t k = 0; k < m.values.size(); ++k) {
                state.rows.push_back({rid, integer(m.task), integer(m.step), std::string(name_of(m.key)),
                                      integer(static_cast<int64_t>(k)), number(m.values[k])});
                values.push_back(json_number(m.values[k]));
            }
            jstate.push_back(
                {{"task", m.task}, {"step", m.step}, {"key", std::string(name_of(m.key))}, {"values", values}});
        }
        jr["method_state"] = jstate;

        const RunCost run_costs = run_cost(store.method_state(id));
        json jcost = cost_json(run_costs.final_row());
        jcost["tasks"] = json::array();
        for (const CostRow& r : run_costs.tasks) {
            std::vector<std::string> cells = {rid, integer(r.task)};
            for (const CostColumnInfo& info : cost_columns()) cells.push_back(number(r[info.column]));
            cost.rows.push_back(std::move(cells));
            json jt = cost_json(r);
            jt["task"] = r.task;
            jcost["tasks"].push_back(jt);
        }
        jr["cost"] = jcost;

        json janalyses = json::array();
        const std::vector<AnalysisPoint> points = store.analysis_points(id);
        for (const auto& p : points) {
            analyses.rows.push_back(
                {rid, std::string(name_of(p.analysis)), name_of(p.series), number(p.x), number(p.y)});
            janalyses.push_back({{"analysis", std::string(name_of(p.analysis))},
                                 {"series", name_of(p.series)},
                                 {"x", json_number(p.x)},
                                 {"y", json_number(p.y)}});
        }
        jr["analyses"] = janalyses;

        const std::vector<std::string>& names = run->facts.class_names;
        json jclasses = json::array();
        std::vector<ClassEvalRow> class_rows;
        for (const auto& c : store.class_eval_rows(id)) {
            const ClassEvalRow& r = c.row;
            if (r.eval_task != kFoundationTask) continue;
            const std::string name = r.class_id >= 0 && r.class_id < int(names.size()) ? names[r.class_id] : "";
            const std::string pct = r.total > 0 ? number(100.0 * double(r.correct) / double(r.total)) : std::string();
            classes.rows.push_back({rid, integer(r.after_task), integer(r.class_id), name, pct, integer(r.correct),
                                    integer(r.total), r.newly_wrong >= 0 ? integer(r.newly_wrong) : "",
                                    r.lost_since_start >= 0 ? integer(r.lost_since_start) : ""});
            jclasses.push_back(
                {{"after_task", r.after_task},
                 {"class_id", r.class_id},
                 {"class_name", name},
                 {"correct", r.correct},
                 {"total", r.total},
                 {"newly_wrong", r.newly_wrong >= 0 ? json(r.newly_wrong) : json(nullptr)},
                 {"lost_since_start", r.lost_since_start >= 0 ? json(r.lost_since_start) : json(nullptr)}});
            class_rows.push_back(r);
        }
        jr["foundation_classes"] = jclasses;

        const ContextualForgetting cf = contextual_forgetting(points, class_rows, names);
        json jcf = json::array();
        for (const auto& t : cf.tasks) {
            const std::string task = integer(t.task);
            json jpoints = json::array(), jbins = json::array();
            for (const auto& c : t.classes) {
                cf_classes.rows.push_back({rid, task, integer(c.class_id), c.class_name, number(c.similarity),
                                           integer(c.lost), integer(c.samples)});
                jpoints.push_back({{"class_id", c.class_id},
                                   {"class_name", c.class_name},
                                   {"similarity", c.similarity},
                                   {"lost_since_start", c.lost},
                                   {"samples", c.samples}});
            }
            for (int b = 0; b < cf.bins; ++b) {
                cf_density.rows.push_back({rid, task, number(cf.bin_low(b)), number(cf.bin_high(b)),
                                           number(t.lost_density[b]), number(t.class_density[b])});
                jbins.push_back({{"bin_low", cf.bin_low(b)},
                                 {"bin_high", cf.bin_high(b)},
                                 {"lost_density", t.lost_density[b]},
                                 {"class_density", t.class_density[b]}});
            }
            cf_summary.rows.push_back({rid, task, integer(t.lost_total), integer(t.samples_total), number(t.lost_mean),
                                       number(t.class_mean)});
            jcf.push_back({{"task", t.task},
                           {"lost", t.lost_total},
                           {"samples", t.samples_total},
                           {"lost_mean_similarity", json_number(t.lost_mean)},
                           {"class_mean_similarity", json_number(t.class_mean)},
                           {"classes", jpoints},
                           {"density", jbins}});
        }
        jr["contextual_forgetting"] = jcf;
        jr["low_loss_region"] = append_low_loss_rows(low_loss_tables, rid, low_loss_table(points));
        doc["runs"].push_back(jr);
    }

    // Variant summaries of every experiment the runs belong to, restricted to the exported runs.
    const std::set<int64_t> exported(run_ids.begin(), run_ids.end());
    for (int64_t experiment : experiments) {
        if (experiment <= 0) continue;
        for (const auto& v : summarize_variants(store, experiment)) {
            bool included = false;
            for (int64_t id : v.run_ids) included = included || exported.count(id);
            if (!included) continue;
            json jv = {{"experiment_id", experiment}, {"variant_index", v.index}, {"variant", v.label},
                       {"method", v.method},          {"run_ids", v.run_ids},     {"finished", v.finished},
                       {"seconds", v.seconds},        {"metrics", json::object()}};
            for (const auto& a : v.metrics.metrics) {
                variants.rows.push_back({integer(v.index), v.label, a.key, integer(v.metrics.runs), integer(a.n),
                                         number(a.mean), number(a.std)});
                jv["metrics"][a.key] = {{"n", a.n}, {"mean", json_number(a.mean)}, {"std", json_number(a.std)}};
            }
            jv["cost"] = cost_json(v.cost);
            doc["variants"].push_back(jv);
        }
    }
    out.tables = {runs,     acc_class, acc_task,   evaluations, metrics,    loss,    state,
                  analyses, classes,   cf_classes, cf_density,  cf_summary, variants};
    out.tables.push_back(cost);
    for (CsvTable& low_loss : low_loss_tables.all()) out.tables.push_back(std::move(low_loss));
    out.document = std::move(doc);
    return out;
}

std::string to_csv(const CsvTable& table) {
    std::string text;
    auto line = [&](const std::vector<std::string>& cells) {
        for (size_t i = 0; i < cells.size(); ++i) text += (i ? "," : "") + quoted(cells[i]);
        text += "\n";
    };
    line(table.header);
    for (const auto& row : table.rows) line(row);
    return text;
}

std::vector<std::vector<std::string>> parse_csv(std::istream& in, const std::string& source) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> row;
    std::string cell;
    bool in_quotes = false, any = false;
    int line = 1, quote_line = 0;
    char c;
    while (in.get(c)) {
        any = true;
        if (in_quotes) {
            if (c == '"') {
                if (in.peek() == '"') {
                    in.get(c);
                    cell += '"';
                } else {
                    in_quotes = false;
                }
            } else {
                if (c == '\n') ++line;
                cell += c;
            }
        } else if (c == '"') {
            in_quotes = true;
            quote_line = line;
        } else if (c == ',') {
            row.push_back(std::move(cell));
            cell.clear();
        } else if (c == '\n' || c == '\r') {
            if (c == '\r' && in.peek() == '\n') in.get(c);
            row.push_back(std::move(cell));
            cell.clear();
            rows.push_back(std::move(row));
            row.clear();
            any = false;
            ++line;
        } else {
            cell += c;
        }
    }
    if (in_quotes) throw std::runtime_error(source + ": line " + std::to_string(quote_line) + ": unterminated quote");
    if (any) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
    }
    return rows;
}

std::vector<std::string> write_results(const ResultsExport& results, const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw std::runtime_error("cannot create directory '" + dir + "': " + ec.message());
    std::vector<std::string> written;
    auto write = [&](const std::string& name, const std::string& text) {
        const std::string path = (fs::path(dir) / name).string();
        std::ofstream out(path, std::ios::binary);
        out << text;
        out.close();
        if (!out) throw std::runtime_error("cannot write '" + path + "'");
        written.push_back(path);
    };
    for (const auto& t : results.tables) write(t.name + ".csv", to_csv(t));
    write("results.json", results.document.dump(2) + "\n");
    return written;
}

}  // namespace lorica
