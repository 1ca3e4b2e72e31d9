// estimate_progress (engine/vocabulary/progress_estimate.h): the fraction and ETA the CLI and the GUI
// both show, against values computed by hand.

#include <gtest/gtest.h>

#include "engine/vocabulary/progress_estimate.h"

namespace lorica {
namespace {

TEST(ProgressEstimate, FractionAndEtaFromTheMeasuredRate) {
    // 150 of 480 steps, all 150 timed over 30 s: 0.2 s a step, 330 steps left → 66 s.
    const ProgressEstimate p = estimate_progress(150, 480, 150, 30.0);
    EXPECT_DOUBLE_EQ(p.fraction, 150.0 / 480.0);
    EXPECT_DOUBLE_EQ(p.eta_seconds, 66.0);
}

TEST(ProgressEstimate, OnlyTimedStepsSetTheRate) {
    // A resumed run: 300 of 400 steps done, but only the last 50 timed (10 s): 0.2 s a step, 100 left → 20 s.
    const ProgressEstimate p = estimate_progress(300, 400, 50, 10.0);
    EXPECT_DOUBLE_EQ(p.fraction, 0.75);
    EXPECT_DOUBLE_EQ(p.eta_seconds, 20.0);
}

TEST(ProgressEstimate, UnknownBeforeAStepWasTimed) {
    const ProgressEstimate p = estimate_progress(0, 480, 0, 0.0);
    EXPECT_DOUBLE_EQ(p.fraction, 0.0);
    EXPECT_DOUBLE_EQ(p.eta_seconds, -1.0);
}

// An unknown total (planned 0, e.g. a stream over every image of a folder) is no fraction and no ETA:
// before, the GUI planned 1 step per run then and showed 100 % and "ETA 0:00" from the first step.
TEST(ProgressEstimate, ClampedAtTheEndAndUnknownWithNothingPlanned) {
    const ProgressEstimate over = estimate_progress(500, 480, 500, 100.0);
    EXPECT_DOUBLE_EQ(over.fraction, 1.0);
    EXPECT_DOUBLE_EQ(over.eta_seconds, 0.0);
    const ProgressEstimate none = estimate_progress(10, 0, 10, 1.0);
    EXPECT_DOUBLE_EQ(none.fraction, 0.0);
    EXPECT_DOUBLE_EQ(none.eta_seconds, -1.0);
}

}  // namespace
}  // namespace lorica
