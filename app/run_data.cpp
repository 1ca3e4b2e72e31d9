#include "app/run_data.h"

#include <algorithm>
#include <stdexcept>
#include <type_traits>

#include "engine/store/run_store.h"

namespace lorica::app {

void RunData::apply(const Event& event) {
    std::visit(
        [this](const auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, RunStarted>) {
                record = run_record_from(e);
            } else if constexpr (std::is_same_v<T, StreamDescribed>) {
                tasks = e.tasks;
                foundation = e.foundation;
            } else if constexpr (std::is_same_v<T, StepMetrics>) {
                steps.push_back(e);
            } else if constexpr (std::is_same_v<T, EvaluationDone>) {
                evals.insert(evals.end(), e.rows.begin(), e.rows.end());
                class_evals.insert(class_evals.end(), e.class_rows.begin(), e.class_rows.end());
            } else if constexpr (std::is_same_v<T, MethodState>) {
                states.push_back(e);
            } else if constexpr (std::is_same_v<T, AnalysisDone>) {
                analysis.insert(analysis.end(), e.points.begin(), e.points.end());
            } else if constexpr (std::is_same_v<T, RunFinished>) {
                record.status = e.status;
                record.message = e.message;
                record.seconds = e.seconds;
            }
        },
        event);
}

RunData RunData::load(const RunStore& store, int64_t run_id) {
    auto record = store.run(run_id);
    if (!record) throw std::invalid_argument("no run " + std::to_string(run_id) + " in " + store.path());
    RunData data;
    data.record = *record;
    for (const TaskRecord& t : store.tasks(run_id)) {
        if (t.info.task == kFoundationTask)
            data.foundation = t.info;
        else
            data.tasks.push_back(t.info);
    }
    data.steps = store.step_metrics(run_id);
    for (const EvalRecord& r : store.eval_rows(run_id)) data.evals.push_back(r.row);
    for (const ClassEvalRecord& r : store.class_eval_rows(run_id)) data.class_evals.push_back(r.row);
    data.states = store.method_state(run_id);
    data.analysis = store.analysis_points(run_id);
    data.compute_derived();
    return data;
}

int RunData::num_tasks() const { return tasks.empty() ? record.num_tasks : static_cast<int>(tasks.size()); }

const RunData::Derived& RunData::derived(HeadMode mode) const {
    std::optional<Derived>& d = derived_[mode == HeadMode::class_il ? 0 : 1];
    const int tasks = num_tasks();
    if (!d || d->evals != evals.size() || d->tasks != tasks) {
        Derived fresh;
        fresh.evals = evals.size();
        fresh.tasks = tasks;
        fresh.matrix = AccuracyMatrix::from_eval_rows(evals, mode, tasks);
        fresh.metrics = compute_metrics(fresh.matrix);
        d = std::move(fresh);
    }
    return *d;
}

void RunData::compute_derived() const {
    derived(HeadMode::class_il);
    derived(HeadMode::task_il);
}

const AccuracyMatrix& RunData::matrix(HeadMode mode) const { return derived(mode).matrix; }

const MetricSet& RunData::metrics(HeadMode mode) const { return derived(mode).metrics; }

std::vector<AnalysisPoint> RunData::points_of(AnalysisKey name) const {
    std::vector<AnalysisPoint> out;
    for (const auto& p : analysis)
        if (p.analysis == name) out.push_back(p);
    return out;
}

std::vector<MethodState> RunData::states_of(StateKey key) const {
    std::vector<MethodState> out;
    for (const auto& s : states)
        if (s.key == key) out.push_back(s);
    return out;
}

std::string RunData::label() const {
    std::string head = record.id > 0 ? "run " + std::to_string(record.id) : std::string("live");
    return head + " · " + record.method + " · seed " + std::to_string(record.seed);
}

void ExperimentData::apply(const Event& event) {
    if (const auto* e = std::get_if<ExperimentStarted>(&event)) {
        name = e->name;
        seeds = e->seeds;
        runs.clear();
        return;
    }
    if (std::holds_alternative<RunStarted>(event)) runs.emplace_back();
    if (!runs.empty()) runs.back().apply(event);
}

ExperimentData ExperimentData::load_experiment_of(const RunStore& store, int64_t run_id) {
    ExperimentData data;
    RunData run = RunData::load(store, run_id);
    if (run.record.experiment_id > 0) {
        if (auto experiment = store.experiment(run.record.experiment_id)) data.name = experiment->name;
        for (const RunRecord& sibling : store.runs_of_experiment(run.record.experiment_id)) {
            data.seeds.push_back(sibling.seed);
            data.runs.push_back(sibling.id == run_id ? run : RunData::load(store, sibling.id));
        }
    }
    if (data.runs.empty()) {
        data.seeds = {run.record.seed};
        data.runs.push_back(std::move(run));
    }
    return data;
}

std::vector<VariantRuns> ExperimentData::variants() const {
    std::vector<VariantRuns> out;
    for (const RunData& run : runs) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const VariantRuns& v) { return v.index == run.record.variant_index; });
        if (it == out.end()) {
            out.push_back(
                {run.record.variant_index, run.record.variant.empty() ? run.record.method : run.record.variant, {}});
            it = std::prev(out.end());
        }
        it->runs.push_back(&run);
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const VariantRuns& a, const VariantRuns& b) { return a.index < b.index; });
    return out;
}

std::string class_name(const std::vector<std::string>& names, int class_id) {
    if (class_id >= 0 && class_id < static_cast<int>(names.size())) return names[static_cast<std::size_t>(class_id)];
    return "class " + std::to_string(class_id);
}

}  // namespace lorica::app
