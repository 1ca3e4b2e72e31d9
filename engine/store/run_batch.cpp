// RunBatch: the rows of one run written in one transaction (run_batch.h).

#include "engine/store/run_batch.h"

#include <algorithm>

namespace lorica {

std::size_t RunBatch::rows() const {
    std::size_t n = task_starts.size() + task_ends.size() + steps.size() + eval_rows.size() + class_rows.size() +
                    analysis_points.size() + artifacts.size();
    for (const auto& s : method_states) n += std::max<std::size_t>(1, s.values.size());
    return n;
}

void RunBatch::clear() {
    task_starts.clear();
    task_ends.clear();
    steps.clear();
    eval_rows.clear();
    class_rows.clear();
    method_states.clear();
    analysis_points.clear();
    artifacts.clear();
    artifact_times.clear();
}

}  // namespace lorica
