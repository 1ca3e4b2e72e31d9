// RunStore's readers of one run's rows (run_store.h): tasks, step metrics, evaluation and per-class
// rows, method state, analysis points and artifacts, each in the order it was written (rowid; tasks
// by task_index). Stored NULL in a REAL column reads back as NaN; keys this build does not know are
// skipped, not misread.

#include <nlohmann/json.hpp>

#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/store/run_store_impl.h"

namespace lorica {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// REAL columns that may hold NaN: SQLite stores NaN as NULL, so NULL reads back as NaN.
double real_or_nan(const Statement& st, int index) { return st.column_is_null(index) ? kNaN : st.column_double(index); }

std::vector<int> classes_from_json(const std::string& text, const std::string& path) {
    if (text.empty()) return {};
    try {
        return nlohmann::json::parse(text).get<std::vector<int>>();
    } catch (const std::exception& e) {
        throw std::runtime_error("results database '" + path + "': malformed tasks.classes_json '" + text +
                                 "': " + e.what());
    }
}

}  // namespace

std::vector<TaskRecord> RunStore::tasks(int64_t run_id) const {
    std::vector<TaskRecord> out;
    impl_->for_each_row(
        "SELECT task_index, name, classes_json, domain, train_samples, test_samples, planned_steps, "
        "trainable_parameters, seconds FROM tasks WHERE run_id = ? ORDER BY task_index",
        bind_first_parameter(run_id), [&](const Statement& st) {
            TaskRecord t;
            t.run_id = run_id;
            t.info.task = static_cast<int>(st.column_int64(0));
            t.info.name = st.column_text(1);
            t.info.classes = classes_from_json(st.column_text(2), impl_->db.path());
            t.info.domain = st.column_text(3);
            t.info.train_samples = st.column_int64(4);
            t.info.test_samples = st.column_int64(5);
            t.planned_steps = st.column_int64(6);
            t.trainable_parameters = st.column_int64(7);
            t.seconds = st.column_double(8);
            out.push_back(std::move(t));
        });
    return out;
}

std::vector<StepMetrics> RunStore::step_metrics(int64_t run_id) const {
    std::vector<StepMetrics> out;
    impl_->for_each_row(
        "SELECT task_index, epoch, step, step_in_task, loss, lr, step_ms FROM step_metrics WHERE run_id = ? "
        "ORDER BY rowid",
        bind_first_parameter(run_id), [&](const Statement& st) {
            StepMetrics s;
            s.task = static_cast<int>(st.column_int64(0));
            s.epoch = static_cast<int>(st.column_int64(1));
            s.step = st.column_int64(2);
            s.step_in_task = st.column_int64(3);
            s.loss = real_or_nan(st, 4);
            s.lr = real_or_nan(st, 5);
            s.step_ms = real_or_nan(st, 6);
            out.push_back(s);
        });
    return out;
}

std::vector<EvalRecord> RunStore::eval_rows(int64_t run_id) const {
    std::vector<EvalRecord> out;
    impl_->for_each_row(
        "SELECT after_task, eval_task, step, phase, head_mode, correct, total FROM eval_rows WHERE run_id = ? "
        "ORDER BY rowid",
        bind_first_parameter(run_id), [&](const Statement& st) {
            EvalRecord r;
            r.run_id = run_id;
            r.row.after_task = static_cast<int>(st.column_int64(0));
            r.row.eval_task = static_cast<int>(st.column_int64(1));
            r.row.step = st.column_int64(2);
            r.row.phase = eval_phase_from_string(st.column_text(3));
            r.row.head_mode = head_mode_from_string(st.column_text(4));
            r.row.correct = st.column_int64(5);
            r.row.total = st.column_int64(6);
            out.push_back(r);
        });
    return out;
}

std::vector<ClassEvalRecord> RunStore::class_eval_rows(int64_t run_id) const {
    std::vector<ClassEvalRecord> out;
    impl_->for_each_row(
        "SELECT after_task, eval_task, class_id, correct, total, newly_wrong, lost_since_start FROM class_eval_rows "
        "WHERE run_id = ? ORDER BY rowid",
        bind_first_parameter(run_id), [&](const Statement& st) {
            ClassEvalRecord r;
            r.run_id = run_id;
            r.row.after_task = static_cast<int>(st.column_int64(0));
            r.row.eval_task = static_cast<int>(st.column_int64(1));
            r.row.class_id = static_cast<int>(st.column_int64(2));
            r.row.correct = st.column_int64(3);
            r.row.total = st.column_int64(4);
            r.row.newly_wrong = st.column_is_null(5) ? -1 : st.column_int64(5);
            r.row.lost_since_start = st.column_is_null(6) ? -1 : st.column_int64(6);
            out.push_back(r);
        });
    return out;
}

std::vector<MethodState> RunStore::method_state(int64_t run_id) const {
    std::vector<MethodState> out;
    impl_->for_each_row("SELECT task_index, step, key, idx, value FROM method_state WHERE run_id = ? ORDER BY rowid",
                        bind_first_parameter(run_id), [&](const Statement& st) {
                            const int task = static_cast<int>(st.column_int64(0));
                            const int64_t step = st.column_int64(1);
                            // A key this build does not know (a newer or foreign database) is skipped, not misread.
                            const std::optional<StateKey> parsed = parse_state_key(st.column_text(2));
                            if (!parsed) return;
                            const StateKey key = *parsed;
                            const int64_t idx = st.column_int64(3);
                            // A new vector starts at idx 0 (or the empty-vector marker -1), or when (task, step, key) changes.
                            const bool continues = !out.empty() && idx > 0 && out.back().task == task &&
                                                   out.back().step == step && out.back().key == key &&
                                                   static_cast<int64_t>(out.back().values.size()) == idx;
                            if (!continues) {
                                MethodState m;
                                m.task = task;
                                m.step = step;
                                m.key = key;
                                out.push_back(std::move(m));
                            }
                            if (idx >= 0) out.back().values.push_back(real_or_nan(st, 4));
                        });
    return out;
}

std::vector<AnalysisPoint> RunStore::analysis_points(int64_t run_id, std::optional<AnalysisKey> analysis) const {
    std::vector<AnalysisPoint> out;
    impl_->for_each_row(
        "SELECT analysis, series, x, y FROM analysis_points WHERE run_id = ?1 AND (?2 IS NULL OR analysis = ?2) "
        "ORDER BY rowid",
        [&](Statement& st) {
            st.bind_int64(1, run_id);
            if (analysis) st.bind_text(2, name_of(*analysis));
        },
        [&](const Statement& st) {
            const std::optional<AnalysisKey> key = parse_analysis_key(st.column_text(0));
            const std::optional<SeriesKey> series = parse_series_key(st.column_text(1));
            if (!key || !series) return;  // written by a newer build or another tool: skipped, not misread
            AnalysisPoint p;
            p.analysis = *key;
            p.series = *series;
            p.x = real_or_nan(st, 2);
            p.y = real_or_nan(st, 3);
            out.push_back(std::move(p));
        });
    return out;
}

std::vector<ArtifactRecord> RunStore::artifacts(int64_t run_id) const {
    std::vector<ArtifactRecord> out;
    impl_->for_each_row("SELECT kind, path, meta_json, created_at FROM artifacts WHERE run_id = ? ORDER BY rowid",
                        bind_first_parameter(run_id), [&](const Statement& st) {
                            ArtifactRecord a;
                            a.run_id = run_id;
                            a.kind = st.column_text(0);
                            a.path = st.column_text(1);
                            a.meta_json = st.column_text(2);
                            a.created_at = st.column_text(3);
                            out.push_back(std::move(a));
                        });
    return out;
}

}  // namespace lorica
