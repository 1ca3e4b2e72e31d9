#pragma once
// The cost table of a run (SD-LoRA's Table 5): inference GFLOPs per image, learnable parameters per
// task, stored parameters and stored features, read from the method state the trainer records after
// each task (engine/vocabulary/analysis_keys.h):
//
//   column              key                           unit
//   inference_gflops    StateKey::inference_gflops    GFLOPs per image (multiply-add = 2 FLOPs)
//   learnable_params    StateKey::trainable_params    scalars the method trained on the task (heads excluded)
//   stored_params       StateKey::stored_params       scalars kept after the task (adapters, bases, Fisher ...)
//   stored_features     StateKey::stored_features     scalars of kept feature statistics (InfLoRA's bases ...)
//
// A run's cost is its last recorded task's row (what the finished model costs and keeps). A value a
// run did not record (a database written before these keys, a run stopped before its first task
// ended) is absent and prints "—" (kMissingCost); JSON writes null.

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "engine/vocabulary/events.h"

namespace lorica {

enum class CostColumn : size_t { inference_gflops, learnable_params, stored_params, stored_features };
inline constexpr size_t kCostColumns = 4;

struct CostColumnInfo {
    CostColumn column;
    StateKey key;             // the recorded method state
    std::string json_key;     // "inference_gflops", "learnable_params", "stored_params", "stored_features"
    std::string short_name;   // table header: "GFLOPs/img", "learnable", "stored params", "stored features"
    std::string label;        // a row's name in the GUI's metrics table: "Inference GFLOPs per image", ...
    std::string description;  // one sentence with the unit (tooltips, --help)
};

// The four columns, in CostColumn order.
const std::array<CostColumnInfo, kCostColumns>& cost_columns();

// One task's (or one run's) cost; absent values were not recorded.
struct CostRow {
    int task = -1;  // the stream task after which it was recorded; -1 for an aggregate
    std::array<std::optional<double>, kCostColumns> values;

    const std::optional<double>& operator[](CostColumn c) const { return values[static_cast<size_t>(c)]; }
    std::optional<double>& operator[](CostColumn c) { return values[static_cast<size_t>(c)]; }
    bool empty() const;  // no value at all
};

struct RunCost {
    std::vector<CostRow> tasks;  // one row per task with any cost key, in task order

    // The last task's row (task -1, every value absent, when nothing was recorded).
    CostRow final_row() const;
    bool empty() const { return tasks.empty(); }
};

// The cost rows in a run's method state (values[0] of each cost key; other keys ignored; a key
// recorded twice for a task keeps the later value).
RunCost run_cost(const std::vector<MethodState>& states);

// Per column, the mean over the rows that hold it (absent where none does): the cost of a variant
// over its seeds.
CostRow mean_cost(const std::vector<CostRow>& rows);

inline constexpr const char* kMissingCost = "—";

// A value as the tables print it: GFLOPs with 4 significant digits ("35.12", "0.005252"), counts as
// integers with thousands separators ("36,864"); "—" when absent.
std::string format_cost(CostColumn column, const std::optional<double>& value);

// Text table of a run's cost: one row per task ("after task", then the four columns); one line
// saying the run recorded no cost when it has none.
std::string format_cost_table(const RunCost& cost);

}  // namespace lorica
