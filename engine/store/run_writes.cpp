// RunStore's writers (run_store.h): experiment, run and task rows, a run's batched rows (RunBatch) in
// one transaction each, and the end and notes of a run. Every writer holds the store's lock; a batch
// is all or nothing. The 64-step loss blocks a batch's steps touch are folded in by
// step_block_summaries.cpp inside the same transaction.

#include <nlohmann/json.hpp>

#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unistd.h>

#include "engine/store/run_facts_json.h"
#include "engine/store/run_store.h"
#include "engine/store/run_store_impl.h"
#include "engine/store/uuid.h"

#ifndef LORICA_VERSION
#define LORICA_VERSION "unknown"
#endif

namespace lorica {

namespace {

std::string classes_to_json(const std::vector<int>& classes) { return nlohmann::json(classes).dump(); }

// Artifact paths are stored absolute (relative ones resolved against this process's working
// directory), so they stay valid when the database is read from elsewhere or merged (shard_merge.h).
std::string absolute_artifact_path(const std::string& path) {
    if (path.empty()) return path;
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(path, ec);
    return ec ? path : absolute.lexically_normal().string();
}

}  // namespace

void RunStore::Impl::write_batch(int64_t run_id, const RunBatch& b) {
    if (!b.task_starts.empty()) {
        Statement& st = prepared(
            "INSERT INTO tasks(run_id, task_index, planned_steps, trainable_parameters) VALUES(?, ?, ?, ?) "
            "ON CONFLICT(run_id, task_index) DO UPDATE SET planned_steps = excluded.planned_steps, "
            "trainable_parameters = excluded.trainable_parameters");
        for (const auto& t : b.task_starts) {
            st.bind_int64(1, run_id).bind_int64(2, t.task).bind_int64(3, t.steps).bind_int64(4, t.trainable_parameters);
            st.execute();
        }
    }
    if (!b.task_ends.empty()) {
        Statement& st = prepared(
            "INSERT INTO tasks(run_id, task_index, seconds) VALUES(?, ?, ?) "
            "ON CONFLICT(run_id, task_index) DO UPDATE SET seconds = excluded.seconds");
        for (const auto& t : b.task_ends) {
            st.bind_int64(1, run_id).bind_int64(2, t.task).bind_double(3, t.seconds);
            st.execute();
        }
    }
    if (!b.steps.empty()) {
        Statement& st = prepared(
            "INSERT INTO step_metrics(run_id, task_index, epoch, step, step_in_task, loss, lr, step_ms) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
        for (const auto& s : b.steps) {
            st.bind_int64(1, run_id).bind_int64(2, s.task).bind_int64(3, s.epoch).bind_int64(4, s.step);
            st.bind_int64(5, s.step_in_task).bind_double(6, s.loss).bind_double(7, s.lr).bind_double(8, s.step_ms);
            st.execute();
        }
    }
    if (!b.steps.empty()) write_step_blocks(run_id, b.steps);
    if (!b.eval_rows.empty()) {
        Statement& st = prepared(
            "INSERT INTO eval_rows(run_id, after_task, eval_task, step, phase, head_mode, correct, total) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
        for (const auto& r : b.eval_rows) {
            st.bind_int64(1, run_id).bind_int64(2, r.after_task).bind_int64(3, r.eval_task).bind_int64(4, r.step);
            st.bind_text(5, to_string(r.phase)).bind_text(6, to_string(r.head_mode));
            st.bind_int64(7, r.correct).bind_int64(8, r.total);
            st.execute();
        }
    }
    if (!b.class_rows.empty()) {
        Statement& st = prepared(
            "INSERT INTO class_eval_rows(run_id, after_task, eval_task, class_id, correct, total, newly_wrong, "
            "lost_since_start) VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
        for (const auto& r : b.class_rows) {
            st.bind_int64(1, run_id).bind_int64(2, r.after_task).bind_int64(3, r.eval_task);
            st.bind_int64(4, r.class_id).bind_int64(5, r.correct).bind_int64(6, r.total);
            if (r.newly_wrong >= 0)
                st.bind_int64(7, r.newly_wrong);
            else
                st.bind_null(7);
            if (r.lost_since_start >= 0)
                st.bind_int64(8, r.lost_since_start);
            else
                st.bind_null(8);
            st.execute();
        }
    }
    if (!b.method_states.empty()) {
        Statement& st =
            prepared("INSERT INTO method_state(run_id, task_index, step, key, idx, value) VALUES(?, ?, ?, ?, ?, ?)");
        for (const auto& m : b.method_states) {
            if (m.values.empty()) {  // marker row: an empty vector was recorded
                st.bind_int64(1, run_id).bind_int64(2, m.task).bind_int64(3, m.step).bind_text(4, name_of(m.key));
                st.bind_int64(5, -1).bind_null(6);
                st.execute();
                continue;
            }
            for (std::size_t i = 0; i < m.values.size(); ++i) {
                st.bind_int64(1, run_id).bind_int64(2, m.task).bind_int64(3, m.step).bind_text(4, name_of(m.key));
                st.bind_int64(5, static_cast<int64_t>(i)).bind_double(6, m.values[i]);
                st.execute();
            }
        }
    }
    if (!b.analysis_points.empty()) {
        Statement& st = prepared("INSERT INTO analysis_points(run_id, analysis, series, x, y) VALUES(?, ?, ?, ?, ?)");
        for (const auto& p : b.analysis_points) {
            st.bind_int64(1, run_id).bind_text(2, name_of(p.analysis)).bind_text(3, name_of(p.series));
            st.bind_double(4, p.x).bind_double(5, p.y);
            st.execute();
        }
    }
    if (!b.artifacts.empty()) {
        Statement& st =
            prepared("INSERT INTO artifacts(run_id, kind, path, meta_json, created_at) VALUES(?, ?, ?, ?, ?)");
        for (std::size_t i = 0; i < b.artifacts.size(); ++i) {
            const auto& a = b.artifacts[i];
            const bool has_time = i < b.artifact_times.size() && !b.artifact_times[i].empty();
            st.bind_int64(1, run_id).bind_text(2, a.kind).bind_text(3, absolute_artifact_path(a.path));
            st.bind_text(4, a.meta_json);
            st.bind_text(5, has_time ? b.artifact_times[i] : now_iso8601());
            st.execute();
        }
    }
}

int64_t RunStore::insert_experiment(const ExperimentStarted& e, const std::string& created_at,
                                    const std::string& uuid) {
    std::lock_guard lock(impl_->mutex);
    if (!uuid.empty()) {
        if (!is_uuid(uuid))
            throw std::invalid_argument("results database '" + path() + "': experiment UUID '" + uuid +
                                        "' is not a UUID (8-4-4-4-12 hex digits)");
        Statement& find = impl_->prepared("SELECT id FROM experiments WHERE uuid = ?");
        ResetOnExit guard{find};
        find.bind_text(1, uuid);
        if (find.step()) return find.column_int64(0);
    }
    Statement& st = impl_->prepared(
        "INSERT INTO experiments(name, config_json, config_hash, created_at, uuid) VALUES(?, ?, ?, ?, ?)");
    st.bind_text(1, e.name).bind_text(2, e.config_json).bind_text(3, e.config_hash);
    st.bind_text(4, created_at.empty() ? now_iso8601() : created_at);
    st.bind_text(5, uuid.empty() ? new_uuid() : uuid);
    st.execute();
    return impl_->db.last_insert_rowid();
}

int64_t RunStore::insert_run(int64_t experiment_id, const RunStarted& s) {
    RunRecord r = run_record_from(s);
    r.experiment_id = experiment_id;
    // A writer that did not fill the facts (a hand-made event): derived from its config, as for the
    // runs of an older database (run_facts_json.h), so every stored run has them.
    if (r.facts == RunFacts{}) r.facts = run_facts_of_stored_config(r.config_json, r.method, r.variant);
    r.lorica_version = LORICA_VERSION;
    r.host = host_name();
    r.pid = static_cast<int64_t>(::getpid());
    r.started_at = now_iso8601();
    return insert_run(r);
}

int64_t RunStore::insert_run(const RunRecord& r) {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "INSERT INTO runs(experiment_id, run_index, seed, method, config_json, config_hash, lorica_version, "
        "torch_version, device, host, pid, started_at, ended_at, status, message, num_tasks, total_steps, notes, "
        "seconds, variant, variant_index, sweep_field, sweep_value, uuid, facts_json) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (r.experiment_id > 0)
        st.bind_int64(1, r.experiment_id);
    else
        st.bind_null(1);
    st.bind_int64(2, r.run_index).bind_int64(3, r.seed).bind_text(4, r.method).bind_text(5, r.config_json);
    st.bind_text(6, r.config_hash).bind_text(7, r.lorica_version).bind_text(8, r.torch_version);
    st.bind_text(9, r.device).bind_text(10, r.host).bind_int64(11, r.pid);
    st.bind_text(12, r.started_at.empty() ? now_iso8601() : r.started_at);
    if (r.ended_at.empty())
        st.bind_null(13);
    else
        st.bind_text(13, r.ended_at);
    st.bind_text(14, to_string(r.status)).bind_text(15, r.message).bind_int64(16, r.num_tasks);
    st.bind_int64(17, r.total_steps).bind_text(18, r.notes);
    if (r.status == RunStatus::running && r.seconds == 0.0)
        st.bind_null(19);
    else
        st.bind_double(19, r.seconds);
    st.bind_text(20, r.variant).bind_int64(21, r.variant_index).bind_text(22, r.sweep_field);
    st.bind_text(23, r.sweep_value);
    if (!r.uuid.empty() && !is_uuid(r.uuid))
        throw std::invalid_argument("results database '" + impl_->db.path() + "': run UUID '" + r.uuid +
                                    "' is not a UUID (8-4-4-4-12 hex digits)");
    st.bind_text(24, r.uuid.empty() ? new_uuid() : r.uuid);
    st.bind_text(25, run_facts_json(r.facts));
    st.execute();
    return impl_->db.last_insert_rowid();
}

void RunStore::insert_tasks(int64_t run_id, const StreamDescribed& stream) {
    std::lock_guard lock(impl_->mutex);
    Transaction tx(impl_->db);
    Statement& st = impl_->prepared(
        "INSERT INTO tasks(run_id, task_index, name, classes_json, domain, train_samples, test_samples) "
        "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, task_index) DO UPDATE SET name = excluded.name, "
        "classes_json = excluded.classes_json, domain = excluded.domain, train_samples = excluded.train_samples, "
        "test_samples = excluded.test_samples");
    auto put = [&](const TaskInfo& t, int index) {
        st.bind_int64(1, run_id).bind_int64(2, index).bind_text(3, t.name).bind_text(4, classes_to_json(t.classes));
        st.bind_text(5, t.domain).bind_int64(6, t.train_samples).bind_int64(7, t.test_samples);
        st.execute();
    };
    if (!stream.foundation.classes.empty()) put(stream.foundation, kFoundationTask);
    for (const auto& t : stream.tasks) put(t, t.task);
    tx.commit();
}

void RunStore::append(int64_t run_id, const RunBatch& batch) {
    if (batch.empty()) return;
    std::lock_guard lock(impl_->mutex);
    Transaction tx(impl_->db);
    impl_->write_batch(run_id, batch);
    tx.commit();
}

void RunStore::insert_step_metrics(int64_t run_id, const std::vector<StepMetrics>& steps) {
    RunBatch b;
    b.steps = steps;
    append(run_id, b);
}

void RunStore::insert_evaluation(int64_t run_id, const EvaluationDone& evaluation) {
    RunBatch b;
    b.eval_rows = evaluation.rows;
    b.class_rows = evaluation.class_rows;
    append(run_id, b);
}

void RunStore::insert_method_state(int64_t run_id, const MethodState& state) {
    RunBatch b;
    b.method_states.push_back(state);
    append(run_id, b);
}

void RunStore::insert_analysis_points(int64_t run_id, const std::vector<AnalysisPoint>& points) {
    RunBatch b;
    b.analysis_points = points;
    append(run_id, b);
}

void RunStore::insert_artifact(int64_t run_id, const ArtifactWritten& artifact) {
    RunBatch b;
    b.artifacts.push_back(artifact);
    append(run_id, b);
}

void RunStore::finish_run(int64_t run_id, RunStatus status, const std::string& message, double seconds,
                          const std::string& ended_at) {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared("UPDATE runs SET status = ?, message = ?, seconds = ?, ended_at = ? WHERE id = ?");
    st.bind_text(1, to_string(status)).bind_text(2, message).bind_double(3, seconds);
    st.bind_text(4, ended_at.empty() ? now_iso8601() : ended_at).bind_int64(5, run_id);
    st.execute();
    if (impl_->db.changes() == 0)
        throw std::runtime_error("results database '" + path() + "': no run with id " + std::to_string(run_id));
}

void RunStore::set_run_notes(int64_t run_id, const std::string& notes) {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared("UPDATE runs SET notes = ? WHERE id = ?");
    st.bind_text(1, notes).bind_int64(2, run_id);
    st.execute();
    if (impl_->db.changes() == 0)
        throw std::runtime_error("results database '" + path() + "': no run with id " + std::to_string(run_id));
}

}  // namespace lorica
