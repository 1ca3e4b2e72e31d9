#include "engine/store/run_resume.h"

#include <map>
#include <stdexcept>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "engine/store/sqlite_db.h"

namespace lorica {
namespace {

constexpr const char* kCheckpointKind = "run_checkpoint";

// Task of a run_checkpoint artifact's meta_json ({"task": t, "run_dir": ...}); -1 when unreadable.
int artifact_task(const std::string& meta_json, std::string* run_dir = nullptr) {
    const nlohmann::json meta = nlohmann::json::parse(meta_json, nullptr, false);
    if (!meta.is_object() || !meta.contains("task") || !meta["task"].is_number_integer()) return -1;
    if (run_dir && meta.contains("run_dir") && meta["run_dir"].is_string())
        *run_dir = meta["run_dir"].get<std::string>();
    return meta["task"].get<int>();
}

}  // namespace

std::vector<RunCheckpointRecord> run_checkpoints(const RunStore& store, int64_t run_id) {
    std::map<int, RunCheckpointRecord> by_task;
    for (const auto& a : store.artifacts(run_id)) {
        if (a.kind != kCheckpointKind) continue;
        RunCheckpointRecord r;
        r.task = artifact_task(a.meta_json, &r.run_dir);
        if (r.task < 0) continue;
        r.dir = a.path;
        by_task[r.task] = r;  // artifacts come in insertion order: the newest wins
    }
    std::vector<RunCheckpointRecord> out;
    for (auto& [task, r] : by_task) out.push_back(std::move(r));
    return out;
}

void reopen_run_at_checkpoint(RunStore& store, int64_t run_id, const RunReopening& r) {
    const std::string host = RunStore::host_name();
    store.with_database([&](Database& db) {
        Transaction tx(db);
        auto run = [&](const std::string& sql, auto&&... binds) {
            Statement st(db, sql);
            int i = 1;
            (void)std::initializer_list<int>{(st.bind_int64(i++, static_cast<int64_t>(binds)), 0)...};
            st.execute();
        };
        {
            Statement st(
                db, "UPDATE runs SET status = 'running', ended_at = NULL, message = ?, host = ?, pid = ? WHERE id = ?");
            st.bind_text(1, r.message).bind_text(2, host).bind_int64(3, ::getpid()).bind_int64(4, run_id);
            st.execute();
            if (db.changes() == 0)
                throw std::runtime_error("results database '" + db.path() + "': no run with id " +
                                         std::to_string(run_id));
        }
        const int64_t k = r.after_task;
        run("DELETE FROM step_metrics WHERE run_id = ? AND (task_index > ? OR step > ?)", run_id, k, r.last_step);
        // Loss blocks touching a deleted step, rebuilt from the steps left (as schema v6 backfilled them).
        const int64_t first_block = (r.last_step + 1) >> 6;
        run("DELETE FROM step_blocks WHERE run_id = ? AND block >= ?", run_id, first_block);
        run("INSERT INTO step_blocks(run_id, block, first_step, last_step, points, loss_min, loss_max, loss_sum, "
            "loss_n) "
            "SELECT run_id, step >> 6, min(step), max(step), count(*), min(loss), max(loss), sum(loss), count(loss) "
            "FROM step_metrics WHERE run_id = ? AND (step >> 6) >= ? GROUP BY run_id, step >> 6",
            run_id, first_block);
        run("DELETE FROM eval_rows WHERE run_id = ? AND (after_task > ? OR (after_task = ? AND phase IN "
            "('before_task', "
            "'in_task')))",
            run_id, k, k);
        run("DELETE FROM class_eval_rows WHERE run_id = ? AND after_task > ?", run_id, k);
        run("DELETE FROM method_state WHERE run_id = ? AND task_index > ?", run_id, k);
        // The class similarities were stored by the experiment runner before the stream, outside the
        // trainer's count: kept whatever the count.
        const std::string counted = "analysis <> '" + std::string(name_of(AnalysisKey::class_similarity)) + "'";
        run("DELETE FROM analysis_points WHERE run_id = ? AND " + counted +
                " AND rowid NOT IN (SELECT rowid FROM analysis_points WHERE run_id = ? AND " + counted +
                " ORDER BY rowid LIMIT ?)",
            run_id, run_id, r.analysis_points);
        run("UPDATE tasks SET planned_steps = 0, trainable_parameters = 0, seconds = NULL WHERE run_id = ? AND "
            "task_index > ?",
            run_id, k);
        std::vector<int64_t> stale;
        {
            Statement st(db, "SELECT rowid, meta_json FROM artifacts WHERE run_id = ? AND kind = ?");
            st.bind_int64(1, run_id).bind_text(2, kCheckpointKind);
            while (st.step())
                if (artifact_task(st.column_text(1)) > k) stale.push_back(st.column_int64(0));
        }
        for (int64_t rowid : stale) run("DELETE FROM artifacts WHERE rowid = ?", rowid);
        tx.commit();
    });
}

}  // namespace lorica
