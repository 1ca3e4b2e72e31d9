#pragma once
// `lorica-cli run --job DIR/jobs.json --index I`: one job of a sweep (engine/config/sweep_jobs.h) —
// the run of one (variant, seed) — into a database of its own, published as DIR/shards/<job>.sqlite.
//
//   1. DIR/status/<job>.json ← running (host, pid, $SLURM_JOB_ID, $SLURM_ARRAY_JOB_ID, started_at)
//   2. the run, written to <$TMPDIR or /tmp>/lorica-<experiment uuid>-<job>.sqlite (node-local: SQLite
//      is never written on a shared file system), under the sweep's experiment UUID, with
//      $SLURM_CPUS_PER_TASK (else jobs.json's threads_per_job) LibTorch threads; SIGTERM/SIGINT (a
//      Slurm time limit, preemption, scancel) cancel it within a step and it is stored as cancelled
//   3. VACUUM INTO DIR/shards/<job>.sqlite.tmp, then rename to DIR/shards/<job>.sqlite (a shard is
//      there whole or not at all), and the local database is removed — also for a failed or
//      cancelled run, so its message reaches the merged store
//   4. DIR/status/<job>.json ← finished | failed | cancelled (message, ended_at)
// A GPU job's device "auto"/"cuda" is the first GPU in CUDA_VISIBLE_DEVICES, which Slurm sets to the
// GPUs it gave the job. A retried job (`sweep --retry failed`) whose failed attempt left a shard in
// DIR/failed/ continues that shard's run from its last task checkpoint (engine/services/run_resume.h)
// when it can be resumed; otherwise (no shard, no checkpoint, files gone) it starts the run again.
// Exit codes: 0 the run finished, 1 it failed or was cancelled, 2 bad input (jobs.json, index).

#include <string>

namespace lorica::cli {

int command_run_job(const std::string& jobs_path, int index, int progress_every);

// VACUUM INTO `shard_path`.tmp, then rename it to `shard_path`. Throws naming the files.
void publish_shard(const std::string& work_db, const std::string& shard_path);

}  // namespace lorica::cli
