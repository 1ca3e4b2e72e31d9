#pragma once
// Value types of a downsampled per-step curve (RunStore::step_curve): a run's loss (or learning rate,
// or step time) over its optimizer steps, reduced to at most N buckets with the min, max and mean of
// each, so a plot of 1,000,000 steps reads ~2,000 rows and still shows every spike.
//
// Buckets: the run's steps lo..hi (W = hi − lo + 1 steps) are cut into B = min(N, W) ranges of equal
// width; step s falls in bucket floor((s − lo)·B / W). Empty buckets are left out. NaN values (stored
// as NULL) are ignored by min/max/mean; a bucket whose values are all NaN has min = max = mean = NaN.

#include <cstdint>

namespace lorica {

// Which per-step series to read (a column of step_metrics).
enum class StepSeries { loss, lr, step_ms };

struct CurveBucket {
    int64_t first_step = 0;  // smallest step in the bucket
    int64_t last_step = 0;   // largest step in the bucket
    int64_t points = 0;      // stored steps in the bucket (NaN values included)
    double min = 0.0;        // of the series' values in the bucket
    double max = 0.0;
    double mean = 0.0;
};

}  // namespace lorica
