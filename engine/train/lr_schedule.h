#pragma once
// Learning-rate schedules, per task (or per foundation run): a multiplier of the peak lr.
//
//   constant: 1 after warm-up
//   cosine:   min + (1 − min) · ½ (1 + cos(π · (s − W) / (S − W))) after warm-up
//   warm-up:  (s + 1) / W for the first W = round(warmup_fraction · S) steps
// s = 0-based step, S = total steps.

#include <cstdint>

#include "engine/config/experiment_config.h"

namespace lorica {

double lr_multiplier(const ScheduleConfig& schedule, int64_t step, int64_t total_steps);

}  // namespace lorica
