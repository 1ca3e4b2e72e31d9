#pragma once
// Export of stored results for plotting elsewhere: CSV tables (one file per table, with a header
// line) and one JSON document holding everything, for a set of runs (one run, or an experiment's).
//
// Tables (file <name>.csv; numbers with 17 significant digits; a NaN or a not-computable value is
// an empty cell; text cells quoted per RFC 4180 when they hold ',', '"' or a line break):
//   runs               run_id, experiment_id, variant_index, variant, sweep_field, sweep_value, seed,
//                      method, status, seconds, num_tasks, started_at, ended_at
//   accuracy_class_il  run_id, after_task, eval_task, accuracy, correct, total    the end-of-task cells
//   accuracy_task_il     R[t][j] in percent (eval_task −1 = the foundation task, after_task −1 = before
//                        the stream)
//   evaluations        run_id, after_task, eval_task, step, phase, head_mode, accuracy, correct, total
//                      (every stored evaluation: in-task, before-task, random-init, hand-over, ...)
//   metrics            run_id, head_mode, metric, value     (metric = MetricInfo::key, percent)
//   loss               run_id, task, epoch, step, step_in_task, loss, lr, step_ms
//   method_state       run_id, task, step, key, index, value
//   analyses           run_id, analysis, series, x, y
//   foundation_classes run_id, after_task, class_id, class_name, accuracy, correct, total, newly_wrong,
//                      lost_since_start (empty where not recorded)
//   contextual_forgetting          run_id, task, class_id, class_name, similarity, lost_since_start, samples
//   contextual_forgetting_density  run_id, task, bin_low, bin_high, lost_density, class_density
//   contextual_forgetting_summary  run_id, task, lost, samples, lost_mean_similarity, class_mean_similarity
//                      (the scatter, densities and means of engine/eval/contextual_forgetting.h, per task
//                      with class_similarity points; the same numbers `show --analysis` prints)
//   variant_metrics    variant_index, variant, metric, runs, n, mean, std   (mean ± std over seeds)
//   cost               run_id, task, inference_gflops, learnable_params, stored_params, stored_features
//                      (SD-LoRA's Table 5 after each task, engine/eval/cost_table.h; empty where not recorded)
//   low_loss_region      run_id, task_i, task_j, distance, ratio           (analysis.low_loss_region,
//   low_loss_continual   run_id, after_task, optimum_task, distance         engine/store/low_loss_export.h;
//   low_loss_from_start  run_id, task, optimum_distance, continual_distance the numbers `show --analysis
//                        low-loss-region` prints; the last tables)
// JSON (results.json): {"format": 1, "runs": [{run fields, "tasks", "accuracy": {"class_il": R,
// "task_il": R} (R[t][j] percent or null), "metrics": {"class_il": {key: value}, ...}, "loss",
// "method_state", "analyses", "foundation_classes", "contextual_forgetting": [{"task", "lost", "samples",
// "lost_mean_similarity", "class_mean_similarity", "classes": [...], "density": [...]}]}], "variants": [...]}.
// Cost: each run's "cost" holds its final row {"inference_gflops", "learnable_params", "stored_params",
// "stored_features"} (null where not recorded) and "tasks": [{"task", the same four}]; each variant's
// "cost" the mean of its finished runs' final rows.
// Low-loss region: each run's "low_loss_region" {"tasks", "distance", "ratio", "continual",
// "optimum_from_start", "continual_from_start"} (engine/store/low_loss_export.h).

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/store/run_store.h"

namespace lorica {

struct CsvTable {
    std::string name;                            // file stem, e.g. "metrics"
    std::vector<std::string> header;             // column names
    std::vector<std::vector<std::string>> rows;  // cells as text, header.size() per row
};

struct ResultsExport {
    std::vector<CsvTable> tables;  // in the order listed in the file comment
    nlohmann::json document;       // results.json

    // The table named `name`; std::out_of_range when absent.
    const CsvTable& table(const std::string& name) const;
};

// Collects the tables and the document for `run_ids` (in this order). Throws std::runtime_error for
// an id that is not in the store.
ResultsExport export_results(const RunStore& store, const std::vector<int64_t>& run_ids);

// Writes <dir>/<table>.csv for every table and <dir>/results.json, creating `dir`. Returns the paths
// written. Throws std::runtime_error naming the file that could not be written.
std::vector<std::string> write_results(const ResultsExport& results, const std::string& dir);

// CSV text of one table (header line, then the rows; "\n" line ends).
std::string to_csv(const CsvTable& table);
// Parses CSV text (RFC 4180 quoting) into rows of cells, the header included. Throws
// std::runtime_error naming `source` and the line for an unterminated quote.
std::vector<std::vector<std::string>> parse_csv(std::istream& in, const std::string& source);

}  // namespace lorica
