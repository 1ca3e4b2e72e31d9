#pragma once
// Value types of a downsampled per-step curve (RunStore::step_curve): a run's loss (or learning rate,
// or step time) over its optimizer steps, reduced to at most N buckets with the min, max and mean of
// each, so a plot of 1,000,000 steps reads ~2,000 rows and still shows every spike.
//
// Buckets: the run's steps lo..hi (W = hi − lo + 1 steps) are cut into B = min(N, W) ranges of equal
// width; step s falls in bucket floor((s − lo)·B / W). Empty buckets are left out. NaN values (stored
// as NULL) are ignored by min/max/mean; a bucket whose values are all NaN has min = max = mean = NaN.
//
// Long runs (the loss, W ≥ kBlockCurveMinBlocksPerBucket · 64 · B): buckets are made of whole 64-step
// blocks instead, read from the store's per-block loss summaries (schema v6, ~W/64 rows): block k =
// step >> 6, blocks k_lo..k_hi (K of them), block k falls in bucket floor((k − k_lo)·B / K). Each
// bucket is then at least 4 blocks wide, so its edges move by less than one block (64 steps) against
// the equal-width cut; min, max, mean and points are exact for the steps it holds.

#include <cstdint>

namespace lorica {

inline constexpr int64_t kStepBlockSize = 64;                // steps per stored loss block (step >> 6)
inline constexpr int64_t kBlockCurveMinBlocksPerBucket = 4;  // block path when every bucket spans ≥ 4 blocks

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
