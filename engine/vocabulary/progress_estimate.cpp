#include "engine/vocabulary/progress_estimate.h"

#include <algorithm>

namespace lorica {

ProgressEstimate estimate_progress(int64_t done, int64_t planned, int64_t timed_steps, double timed_seconds) {
    ProgressEstimate out;
    if (planned > 0) out.fraction = std::clamp(static_cast<double>(done) / static_cast<double>(planned), 0.0, 1.0);
    if (planned > 0 && timed_steps > 0 && timed_seconds >= 0.0) {
        const int64_t remaining = std::max<int64_t>(0, planned - done);
        out.eta_seconds = timed_seconds / static_cast<double>(timed_steps) * static_cast<double>(remaining);
    }
    return out;
}

}  // namespace lorica
