#pragma once
// The results store's schema: an ordered list of migrations, tracked with `PRAGMA user_version`.
//
// Purpose: a results database written by an older Lorica opens in a newer one and is upgraded in
// place, one migration at a time, each in its own transaction (a crash mid-way leaves the database at
// the last completed version). A database written by a newer Lorica (user_version above
// `latest_schema_version()`) is refused with an error that names the file, never modified.
//
// Adding a migration: append an entry to the list in schema.cpp with the next version number. Never
// edit a migration that has shipped; add a new one that alters the tables.
//
// Tables (version 8; v5 added only indexes: runs(started_at), eval_rows(run_id, phase, head_mode,
// after_task, eval_task, correct, total), step_metrics(run_id, step, loss)). Every row of a run's data carries `run_id` (foreign key to runs.id, indexed).
// Timestamps are ISO-8601 UTC text ("2025-01-31T12:34:56.789Z"). REAL columns that can hold NaN
// (loss, values, points) are nullable: SQLite stores NaN as NULL, the store reads NULL back as NaN.
//
//   experiments(id, name, config_json, config_hash, created_at, uuid [v4])   uuid unique (uuid.h)
//   runs(id, experiment_id, run_index, seed, method, config_json, config_hash, lorica_version,
//        torch_version, device, host, pid, started_at, ended_at, status, message, num_tasks,
//        total_steps, notes [v2], seconds [v2], variant [v3], variant_index [v3], sweep_field [v3],
//        sweep_value [v3], uuid [v4], facts_json [v8])   variant '' = the experiment has no variants;
//        sweep_value is JSON text; uuid unique, written at run start (backfilled for older runs), kept by
//        shard merges; facts_json: the run's typed facts (run_facts_json.h; backfilled from config_json)
//   tasks(run_id, task_index, name, classes_json, domain, train_samples, test_samples,
//         planned_steps [v2], trainable_parameters [v2], seconds [v2])   task_index -1 = foundation
//   step_metrics(run_id, task_index, epoch, step, step_in_task, loss, lr, step_ms)   step_ms in ms
//   eval_rows(run_id, after_task, eval_task, step, phase, head_mode, correct, total)
//   class_eval_rows(run_id, after_task, eval_task, class_id, correct, total, newly_wrong [v3],
//                   lost_since_start [v7])   NULL = not recorded (ClassEvalRow, events.h)
//   method_state(run_id, task_index, step, key, idx, value)   one row per value; idx = position,
//                                                             idx -1 with NULL value = empty vector
//   artifacts(run_id, kind, path, meta_json, created_at)
//   analysis_points(run_id, analysis, series, x, y)   [v2]
//   step_blocks(run_id, block, first_step, last_step, points, loss_min, loss_max, loss_sum, loss_n) [v6]
//                                                     block = step >> 6: the loss of 64 steps summarised
//                                                     (NULL min/max/sum when every loss is NaN)

#include <string_view>
#include <vector>

#include "engine/store/sqlite_db.h"

namespace lorica {

// One schema step: applying `sql` to a database at version `version - 1` brings it to `version`.
struct Migration {
    int version = 0;               // 1, 2, 3, ... (consecutive)
    std::string_view description;  // one line, for logs
    std::string_view sql;          // one or more statements separated by ';'
    // Run after `sql` in the same transaction: fills new columns from existing rows where SQL alone
    // cannot (version 8 derives each run's facts from its stored config). nullptr = none.
    void (*backfill)(Database& db) = nullptr;
};

// All migrations, in order (versions 1..latest).
const std::vector<Migration>& schema_migrations();

// The schema version this build writes and reads.
int latest_schema_version();

// The version recorded in the database (`PRAGMA user_version`; 0 for a new, empty database).
int schema_version(Database& db);

// Applies, in order and each in its own transaction, every migration above the database's version up
// to `target` (1..latest). A database already at or above `target` is left as is (no downgrades).
// Throws std::runtime_error naming the file when the database's version is newer than this build
// knows, std::invalid_argument when `target` is out of range, DatabaseError on SQLite failures.
void migrate(Database& db, int target = latest_schema_version());

}  // namespace lorica
