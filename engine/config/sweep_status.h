#pragma once
// The state of a sweep's jobs (`lorica-cli sweep --status DIR`): pending, running, finished or failed,
// decided from what the job itself wrote (its status file and shard) and what the scheduler says.
//
// Every job writes DIR/status/<job>.json (`JobRecord`): "running" with host, pid and Slurm ids when it
// starts; "finished" (after its shard is published), "failed" or "cancelled" (SIGTERM/SIGINT: a Slurm
// time limit, preemption or scancel) when it ends. A job killed hard (SIGKILL, node failure) leaves
// "running" behind; `classify_job` then sees that its process is gone (local) or that it left the
// Slurm queue (squeue; sacct when accounting is on) and calls it failed. The decision table is in
// sweep_status.cpp, one rule a line.

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace lorica {

enum class SweepJobState { pending, running, finished, failed };
const char* to_string(SweepJobState state);

// DIR/status/<job>.json.
struct JobRecord {
    std::string state;  // running | finished | failed | cancelled
    std::string host;
    int64_t pid = 0;
    std::string slurm_job_id;          // $SLURM_JOB_ID ("" outside Slurm)
    std::string slurm_array_job_id;    // $SLURM_ARRAY_JOB_ID
    std::string started_at, ended_at;  // ISO 8601, UTC
    std::string message;               // why it failed
};
nlohmann::json to_json(const JobRecord& record);
// Throws std::runtime_error naming `source` for a malformed record.
JobRecord job_record_from_json(const nlohmann::json& document, const std::string& source);

// What is known about one job.
struct JobEvidence {
    std::optional<JobRecord> record;    // its status file, if any
    bool shard_present = false;         // DIR/shards/<job>.sqlite exists
    bool submitted = false;             // it is part of a Slurm submission (submissions.json)
    bool queue_known = false;           // squeue answered for the sweep's Slurm jobs
    std::string queue_state;            // squeue's %T for this array task; "" = not in the queue
    std::string accounting_state;       // sacct's State; "" = unknown (no accounting)
    std::optional<bool> process_alive;  // the record's pid on this host (nullopt: other host / no record)
};

struct JobStatus {
    SweepJobState state = SweepJobState::pending;
    std::string detail;  // e.g. "TIMEOUT (sacct)", "process 123 on node7 is gone"
};

JobStatus classify_job(const JobEvidence& evidence);

}  // namespace lorica
