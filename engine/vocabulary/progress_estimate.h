#pragma once
// estimate_progress: how far a planned amount of optimizer steps has come, and the wall time left at
// the rate measured so far — the one formula behind the CLI's progress lines (cli/progress_printer.h)
// and the GUI's progress bar (app/engine_session.h).
//
//   fraction    = clamp(done / planned, 0, 1)                   (0 when nothing is planned)
//   eta_seconds = timed_seconds / timed_steps · (planned − done)  (remaining steps at the measured rate)
//
// `done`: steps taken of `planned`; `timed_steps` of them took `timed_seconds` of active wall time
// (the caller's clock: started at the first stream step, paused time left out; a resumed run's
// earlier steps are done but not timed). The ETA is −1 (unknown) until a step has been timed or while
// nothing is planned (planned ≤ 0: the total is unknown), and 0 once done ≥ planned. Plain arithmetic, no clock read: callers pass what they measured.

#include <cstdint>

namespace lorica {

struct ProgressEstimate {
    double fraction = 0.0;      // of `planned`, in [0, 1]
    double eta_seconds = -1.0;  // remaining wall time; −1 while unknown
};

ProgressEstimate estimate_progress(int64_t done, int64_t planned, int64_t timed_steps, double timed_seconds);

}  // namespace lorica
