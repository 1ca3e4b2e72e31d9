#pragma once
// Resuming a run: continue an interrupted, cancelled or failed run from its last task checkpoint into
// the same run record (`lorica-cli resume RUN`, the GUI's Resume run, a retried sweep job).
//
//   ResumePlan plan = plan_resume(store, run_id);          // checks; ResumeError names run and file
//   resume_run(plan, store, data, events, cancel);         // cuts the rows back, trains tasks k+1..
//
// What continues exactly (docs/resume.md): the checkpoint after task k holds the backbone, heads, the
// method's full state, torch's generators and the evaluator's carried hits (resume_point.h); the data
// order and augmentation are seeded per task. On the CPU a run stopped anywhere in task k+1 (or later)
// and resumed ends with the same accuracy rows and step losses as the run left alone.
//
// Refused (ResumeError, exit 2 in the CLI), naming the run and, where one is at fault, the file:
//   a finished run; a run still running (its writer alive, or on another host); a run without a task
//   checkpoint (stopped during its first task); checkpoint files missing or damaged (resume.json's sizes
//   and CRC-32s); a run whose stored config reads differently in this Lorica (its config hash differs)
//   or whose checkpoint belongs to another config, seed or method; a method whose state format changed.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "engine/config/experiment_config.h"
#include "engine/store/run_records.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/event_listener.h"

namespace lorica {

class RunStore;
struct PreloadedData;
struct ResumePoint;  // resume_point.h (LibTorch); this header stays torch-free for the GUI

// A run that cannot be resumed (bad input: exit 2). The message names the run and the file at fault.
class ResumeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct ResumePlan {
    RunRecord run;                             // as stored before the resume
    ExperimentConfig config;                   // the run's stored config, parsed
    std::shared_ptr<const ResumePoint> point;  // the checkpoint read and checked
    int task = 0;                              // k: the checkpoint follows task k (0-based); tasks k+1.. are trained
    std::string task_dir;                      // its directory (task_<k>)
    int after_task() const { return task; }
    // "resumed after task 2 of 4 (from task_1/, the run was interrupted)": task numbers 1-based as the
    // progress lines print them.
    std::string message() const;
};

// Checks that run `run_id` can be resumed and reads its checkpoint: the newest one, or the one after
// task `after_task` (0-based) when given. Throws ResumeError.
ResumePlan plan_resume(const RunStore& store, int64_t run_id, std::optional<int> after_task = std::nullopt);

// Cuts the run's rows back to the checkpoint (run_resume.h in the store), marks it running and trains
// the remaining tasks. `events` must write into `store` through a StoreListener with
// resume_run_id = plan.run.id (its RunStarted then continues the run). `data`: the raw data set when
// already loaded (preflight), else it is loaded here. Returns the run's status; RunFinished's message
// says that the run was resumed and from which task (a failure's message follows it).
// `threads`: LibTorch intra-op threads (0 = the run's config.threads; a sweep job passes its CPU share).
RunStatus resume_run(const ResumePlan& plan, RunStore& store, std::shared_ptr<const PreloadedData> data,
                     EventListener& events, CancelToken& cancel, int threads = 0);

}  // namespace lorica
