#pragma once
// RunData: everything the workbench draws for one run, as plain values (no Qt, no torch).
//
// One type for both paths into the views: a live run fills it event by event (`apply`, on the GUI
// thread, from the events the bridge moved over), a stored run is read back from the results
// database (`load`). The views draw from RunData only, so a reopened run looks exactly like the live
// one did. ExperimentData groups the runs of one experiment (variants × seeds).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/eval/accuracy_matrix.h"
#include "engine/eval/metrics.h"
#include "engine/store/run_records.h"
#include "engine/vocabulary/events.h"

namespace lorica {
class RunStore;
}

namespace lorica::app {

struct RunData {
    RunRecord record;             // id 0 for a live run not yet known to the store
    std::vector<TaskInfo> tasks;  // stream tasks, in order
    TaskInfo foundation;          // task = kFoundationTask; classes empty when there is none
    std::vector<StepMetrics> steps;
    std::vector<EvalRow> evals;
    std::vector<ClassEvalRow> class_evals;
    std::vector<MethodState> states;
    std::vector<AnalysisPoint> analysis;

    // Adds what a live event carries (run-level events of other runs are the caller's business).
    void apply(const Event& event);

    // Reads run `run_id` back from the store, derived values computed; throws std::invalid_argument
    // when it does not exist.
    static RunData load(const RunStore& store, int64_t run_id);

    int num_tasks() const;  // stream length (tasks, else record.num_tasks)
    // Derived from `evals`, computed once and kept until `evals` or the stream length changes (a live
    // run recomputes after each evaluation; a reopened run's are computed on the reader's thread,
    // StoreWorker, so drawing them costs the GUI thread nothing).
    const AccuracyMatrix& matrix(HeadMode mode) const;
    const MetricSet& metrics(HeadMode mode) const;
    // Computes both head modes' matrix and metrics now (the reader thread calls it after loading).
    void compute_derived() const;
    // The analysis points of `analysis` (names from engine/vocabulary/analysis_keys.h).
    std::vector<AnalysisPoint> points_of(AnalysisKey analysis) const;
    // The method state vectors recorded under `key`, in recording order.
    std::vector<MethodState> states_of(StateKey key) const;
    // Short label: "run 12 · sequential-lora · seed 0" (or "live · ..." before it is stored).
    std::string label() const;

private:
    struct Derived {
        std::size_t evals = 0;  // evals.size() and num_tasks() they were computed for
        int tasks = -1;
        AccuracyMatrix matrix;
        MetricSet metrics;
    };
    const Derived& derived(HeadMode mode) const;
    mutable std::optional<Derived> derived_[2];  // [class_il, task_il]
};

// The runs of one variant of an experiment: its seeds.
struct VariantRuns {
    int index = 0;                     // RunRecord::variant_index (the variant's colour in every view)
    std::string label;                 // RunRecord::variant; the method's name when the experiment has none
    std::vector<const RunData*> runs;  // in seed order
};

// The runs of one experiment (its variants × seeds), live or reopened.
struct ExperimentData {
    std::string name;
    std::vector<int64_t> seeds;
    std::vector<RunData> runs;  // in seed order; the last one may still be running

    // Routes a live event: ExperimentStarted resets, RunStarted opens a run, the rest go to the
    // current (last) run.
    void apply(const Event& event);
    // Every run of the experiment that `run_id` belongs to (just that run when it has none), with
    // their derived matrices and metrics computed (RunData::compute_derived).
    static ExperimentData load_experiment_of(const RunStore& store, int64_t run_id);
    // The runs grouped by variant, in variant order (one group for an experiment without variants).
    // Pointers into `runs`: valid until `runs` changes.
    std::vector<VariantRuns> variants() const;
};

// The name of class `class_id` in `names` (by label: dataset_class_names, engine/config/dataset_catalog.h,
// or a run's RunFacts::class_names), or "class N" when `names` does not name it.
std::string class_name(const std::vector<std::string>& names, int class_id);

}  // namespace lorica::app
