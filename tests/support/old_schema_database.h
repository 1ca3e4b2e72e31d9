#pragma once
// Results databases as an older Lorica left them, for the schema-migration tests: the tables of an
// older schema version (the migrations up to it, engine/store/schema.h) and rows written with that
// version's columns; RunStore::open then migrates the file as it would any older one.

#include <stdexcept>
#include <string>
#include <utility>

#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"

namespace lorica::testing {

// Creates `path` with the schema of `version`, then runs `fill(db)` to write rows with that version's
// columns. The connection is closed when this returns. Returns what `fill` returns (a run's id, say).
// Throws std::logic_error when the file does not read as `version` (an existing newer file).
template <typename Fill>
auto write_database_of_version(const std::string& path, int version, Fill&& fill) {
    Database db(path);
    migrate(db, version);
    if (schema_version(db) != version)
        throw std::logic_error(path + " reads as schema version " + std::to_string(schema_version(db)) + ", not " +
                               std::to_string(version));
    return std::forward<Fill>(fill)(db);
}

// One finished run of 'lora' (run index 0, config "{}", hash "h", on cpu, host "elsewhere", pid 42)
// in a new experiment 'old', with the `runs` columns schema version 1 has; `later_columns` and
// `later_values` (SQL lists, each starting with ", ") add columns of later versions.
struct OldFinishedRun {
    std::string created_at;  // the experiment's, ISO 8601 UTC
    std::string started_at, ended_at;
    int64_t seed = 0;
    std::string lorica_version, torch_version;
    int num_tasks = 0;
    int64_t total_steps = 0;
    std::string later_columns, later_values;  // e.g. ", notes, seconds" and ", 'n', 12.5"
};

// Inserts `run` (and its experiment) into `db`; returns the run's id.
inline int64_t insert_old_finished_run(Database& db, const OldFinishedRun& run) {
    db.exec("INSERT INTO experiments(name, config_json, config_hash, created_at) VALUES('old', '{}', 'h', '" +
            run.created_at + "')");
    const int64_t experiment = db.last_insert_rowid();
    db.exec(
        "INSERT INTO runs(experiment_id, run_index, seed, method, config_json, config_hash, lorica_version, "
        "torch_version, device, host, pid, started_at, ended_at, status, message, num_tasks, total_steps" +
        run.later_columns + ") VALUES(" + std::to_string(experiment) + ", 0, " + std::to_string(run.seed) +
        ", 'lora', '{}', 'h', '" + run.lorica_version + "', '" + run.torch_version + "', 'cpu', 'elsewhere', 42, '" +
        run.started_at + "', '" + run.ended_at + "', 'finished', '', " + std::to_string(run.num_tasks) + ", " +
        std::to_string(run.total_steps) + run.later_values + ")");
    return db.last_insert_rowid();
}

}  // namespace lorica::testing
