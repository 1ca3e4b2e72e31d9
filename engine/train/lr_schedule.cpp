#include "engine/train/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace lorica {

double lr_multiplier(const ScheduleConfig& schedule, int64_t step, int64_t total_steps) {
    const int64_t warmup = std::llround(schedule.warmup_fraction * static_cast<double>(total_steps));
    if (step < warmup) return static_cast<double>(step + 1) / static_cast<double>(warmup);
    if (schedule.name != ScheduleShape::cosine || total_steps <= warmup) return 1.0;
    const double progress =
        std::clamp(static_cast<double>(step - warmup) / static_cast<double>(total_steps - warmup), 0.0, 1.0);
    const double floor = schedule.min_lr_fraction;
    return floor + (1.0 - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
}

}  // namespace lorica
