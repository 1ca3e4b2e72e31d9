#pragma once
// The store's side of resuming a run (lorica-cli resume, engine/services/run_resume.h): where a run's
// task checkpoints are, and cutting the run's rows back to a checkpoint before it continues into the
// same run record.
//
// After a resume from the checkpoint after task k the run holds exactly the rows an uninterrupted run
// would have held at that checkpoint; the resumed process then appends tasks k+1.. as usual:
//   kept     tasks ≤ k: step metrics, evaluations (random init, foundation, before/in/end of task, hand-over
//            phases), per-class rows, method state, the first `analysis_points` analysis points (the
//            class similarities, AnalysisKey::class_similarity, not counted: the experiment runner stores
//            them before the stream and every one is kept), the checkpoint artifacts of tasks ≤ k and
//            every other artifact
//   deleted  everything the stopped process stored after checkpoint k: step metrics of tasks > k (and
//            their 64-step loss blocks, rebuilt for the block that straddles the cut), evaluation rows
//            after task k — including task k+1's before_task and in_task rows, whose after_task is k —,
//            per-class rows after task k, method state of tasks > k, the later analysis points, the
//            run_checkpoint artifacts of tasks > k; tasks > k lose their planned steps, trainable
//            parameters and duration (TaskStarted/TaskFinished write them again)
//   run row  status running, ended_at cleared, host and pid of this process, message as given

#include <cstdint>
#include <string>
#include <vector>

#include "engine/store/run_store.h"

namespace lorica {

// A task checkpoint a run recorded (artifact kind "run_checkpoint", run_checkpoint.h).
struct RunCheckpointRecord {
    int task = 0;
    std::string dir;      // task_<task> directory
    std::string run_dir;  // the run's checkpoint directory
};

// The run's task checkpoints, by task ascending (the newest artifact of a task when several).
std::vector<RunCheckpointRecord> run_checkpoints(const RunStore& store, int64_t run_id);

struct RunReopening {
    int after_task = 0;           // k: the checkpoint the run continues from
    int64_t last_step = 0;        // global step at the end of task k
    int64_t analysis_points = 0;  // analysis points the run had stored at checkpoint k
    std::string message;          // the run's message while it runs again
};

// Cuts run `run_id` back to checkpoint k and marks it running for this process, in one transaction.
// Throws std::runtime_error when the run does not exist (DatabaseError for SQLite failures).
void reopen_run_at_checkpoint(RunStore& store, int64_t run_id, const RunReopening& reopening);

}  // namespace lorica
