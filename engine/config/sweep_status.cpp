#include "engine/config/sweep_status.h"

#include <stdexcept>

namespace lorica {
namespace {

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// Slurm job states (squeue %T, sacct State; sacct may append " by <uid>" to CANCELLED).
bool slurm_waiting(const std::string& s) {
    return s == "PENDING" || s == "REQUEUED" || s == "REQUEUE_HOLD" || s == "RESV_DEL_HOLD";
}
bool slurm_active(const std::string& s) {
    return s == "RUNNING" || s == "COMPLETING" || s == "CONFIGURING" || s == "SUSPENDED" || s == "STAGE_OUT" ||
           s == "SIGNALING" || s == "RESIZING";
}

}  // namespace

const char* to_string(SweepJobState state) {
    switch (state) {
        case SweepJobState::pending:
            return "pending";
        case SweepJobState::running:
            return "running";
        case SweepJobState::finished:
            return "finished";
        case SweepJobState::failed:
            return "failed";
    }
    return "?";
}

nlohmann::json to_json(const JobRecord& r) {
    return {{"state", r.state},
            {"host", r.host},
            {"pid", r.pid},
            {"slurm_job_id", r.slurm_job_id},
            {"slurm_array_job_id", r.slurm_array_job_id},
            {"started_at", r.started_at},
            {"ended_at", r.ended_at},
            {"message", r.message}};
}

JobRecord job_record_from_json(const nlohmann::json& d, const std::string& source) {
    try {
        JobRecord r;
        r.state = d.at("state").get<std::string>();
        if (r.state != "running" && r.state != "finished" && r.state != "failed" && r.state != "cancelled")
            throw std::runtime_error("state '" + r.state + "' is not one of running, finished, failed, cancelled");
        r.host = d.value("host", "");
        r.pid = d.value("pid", int64_t{0});
        r.slurm_job_id = d.value("slurm_job_id", "");
        r.slurm_array_job_id = d.value("slurm_array_job_id", "");
        r.started_at = d.value("started_at", "");
        r.ended_at = d.value("ended_at", "");
        r.message = d.value("message", "");
        return r;
    } catch (const std::exception& e) {
        throw std::runtime_error("job status file '" + source + "' is malformed: " + e.what());
    }
}

JobStatus classify_job(const JobEvidence& e) {
    using S = SweepJobState;
    const std::string record = e.record ? e.record->state : "";
    // 1. The job's own word on how it ended.
    if (record == "finished" && e.shard_present) return {S::finished, ""};
    if (record == "finished") return {S::failed, "finished, but its shard is missing"};
    if (record == "failed" || record == "cancelled")
        return {S::failed, record + (e.record->message.empty() ? "" : ": " + e.record->message)};
    // 2. The scheduler's queue: the job is waiting or active.
    if (slurm_waiting(e.queue_state)) return {S::pending, e.queue_state + " (squeue)"};
    if (slurm_active(e.queue_state)) return {S::running, e.queue_state + " (squeue)"};
    if (!e.queue_state.empty()) return {S::failed, e.queue_state + " (squeue)"};
    // 3. Accounting: how it left the queue.
    const std::string& acct = e.accounting_state;
    if (slurm_waiting(acct)) return {S::pending, acct + " (sacct)"};
    if (slurm_active(acct)) return {S::running, acct + " (sacct)"};
    if (!acct.empty())
        return {S::failed, acct + (starts_with(acct, "COMPLETED") ? " without a shard" : "") + " (sacct)"};
    // 4. Started, never ended: is it still there?
    if (record == "running") {
        if (e.process_alive == false)
            return {S::failed, "process " + std::to_string(e.record->pid) + " on " + e.record->host + " is gone"};
        if (e.submitted && e.queue_known)
            return {S::failed, "left the Slurm queue without finishing (killed, timed out or preempted)"};
        return {S::running, e.record->host.empty() ? "" : "on " + e.record->host};
    }
    // 5. Never started.
    if (e.submitted && e.queue_known) return {S::failed, "left the Slurm queue without starting"};
    return {S::pending, ""};
}

}  // namespace lorica
