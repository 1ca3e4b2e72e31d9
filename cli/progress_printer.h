#pragma once
// Progress lines for the terminal, from engine events (runs on the training thread).
//
//   [seed 0 · run 1/3] foundation  step 300/708  loss 0.4312
//   [rank=4 (3/6) · seed 0 · run 1/1] task 1/5 ...          (an experiment with variants)
//   [seed 0 · run 1/3] task 2/5 (t1 invert {0,6})  epoch 2/3  step 40/96  loss 0.2311  lr 5.0e-04  12.1 ms/step  run 43%  ETA 0:21
//   [seed 0 · run 1/3] after task 2: acc 61.20%  (t0 52.1  t1 70.3)  foundation 81.9%

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "engine/vocabulary/event_listener.h"

namespace lorica::cli {

class ProgressPrinter final : public EventListener {
public:
    // every_steps: print a step line every N steps (and at each task's last step).
    explicit ProgressPrinter(int every_steps = 24, std::FILE* out = stdout) : every_(every_steps), out_(out) {}
    void on_event(const Event& event) override;

private:
    std::string prefix() const;
    std::string eta(double seconds) const;

    int every_;
    std::FILE* out_;
    size_t seeds_ = 1;
    size_t variants_ = 0;  // variants of the experiment (0 = none)
    RunStarted run_;       // the current run (its facts give each task's epochs)
    std::vector<TaskInfo> tasks_;
    int64_t task_steps_ = 0;
    bool clock_started_ = false;        // at the run's first stream step
    int64_t steps_at_clock_start_ = 0;  // run steps taken before it (a resumed run's)
    std::chrono::steady_clock::time_point run_start_;
    double recent_ms_ = 0.0;
    std::map<std::pair<int, int>, std::pair<int64_t, int64_t>> last_eval_;  // (task, mode) → counts
};

}  // namespace lorica::cli
