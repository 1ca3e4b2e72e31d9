#include "engine/store/schema.h"

#include <spdlog/spdlog.h>

#include <stdexcept>
#include <string>

#include "engine/store/run_facts_json.h"

#ifndef LORICA_VERSION
#define LORICA_VERSION "unknown"
#endif

namespace lorica {

namespace {

constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    config_json TEXT NOT NULL DEFAULT '',
    config_hash TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);

CREATE TABLE runs (
    id             INTEGER PRIMARY KEY,
    experiment_id  INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
    run_index      INTEGER NOT NULL DEFAULT 0,
    seed           INTEGER NOT NULL DEFAULT 0,
    method         TEXT NOT NULL DEFAULT '',
    config_json    TEXT NOT NULL DEFAULT '',
    config_hash    TEXT NOT NULL DEFAULT '',
    lorica_version TEXT NOT NULL DEFAULT '',
    torch_version  TEXT NOT NULL DEFAULT '',
    device         TEXT NOT NULL DEFAULT '',
    host           TEXT NOT NULL DEFAULT '',
    pid            INTEGER NOT NULL DEFAULT 0,
    started_at     TEXT NOT NULL,
    ended_at       TEXT,
    status         TEXT NOT NULL DEFAULT 'running',
    message        TEXT NOT NULL DEFAULT '',
    num_tasks      INTEGER NOT NULL DEFAULT 0,
    total_steps    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_experiment ON runs(experiment_id);
CREATE INDEX runs_status ON runs(status);

CREATE TABLE tasks (
    run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    task_index    INTEGER NOT NULL,
    name          TEXT NOT NULL DEFAULT '',
    classes_json  TEXT NOT NULL DEFAULT '[]',
    domain        TEXT NOT NULL DEFAULT '',
    train_samples INTEGER NOT NULL DEFAULT 0,
    test_samples  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (run_id, task_index)
);

CREATE TABLE step_metrics (
    run_id       INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    task_index   INTEGER NOT NULL,
    epoch        INTEGER NOT NULL,
    step         INTEGER NOT NULL,
    step_in_task INTEGER NOT NULL,
    loss         REAL,
    lr           REAL,
    step_ms      REAL
);
CREATE INDEX step_metrics_run ON step_metrics(run_id, step);

CREATE TABLE eval_rows (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    after_task INTEGER NOT NULL,
    eval_task  INTEGER NOT NULL,
    step       INTEGER NOT NULL,
    phase      TEXT NOT NULL,
    head_mode  TEXT NOT NULL,
    correct    INTEGER NOT NULL,
    total      INTEGER NOT NULL
);
CREATE INDEX eval_rows_run ON eval_rows(run_id, after_task);

CREATE TABLE class_eval_rows (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    after_task INTEGER NOT NULL,
    eval_task  INTEGER NOT NULL,
    class_id   INTEGER NOT NULL,
    correct    INTEGER NOT NULL,
    total      INTEGER NOT NULL
);
CREATE INDEX class_eval_rows_run ON class_eval_rows(run_id, after_task);

CREATE TABLE method_state (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    task_index INTEGER NOT NULL,
    step       INTEGER NOT NULL,
    key        TEXT NOT NULL,
    idx        INTEGER NOT NULL,
    value      REAL
);
CREATE INDEX method_state_run ON method_state(run_id, key);

CREATE TABLE artifacts (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    path       TEXT NOT NULL,
    meta_json  TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX artifacts_run ON artifacts(run_id);
)sql";

constexpr std::string_view kMigration2 = R"sql(
CREATE TABLE analysis_points (
    run_id   INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    analysis TEXT NOT NULL,
    series   TEXT NOT NULL,
    x        REAL,
    y        REAL
);
CREATE INDEX analysis_points_run ON analysis_points(run_id, analysis);

ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN seconds REAL;

ALTER TABLE tasks ADD COLUMN planned_steps INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN trainable_parameters INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN seconds REAL;
)sql";

constexpr std::string_view kMigration3 = R"sql(
ALTER TABLE runs ADD COLUMN variant TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN variant_index INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN sweep_field TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN sweep_value TEXT NOT NULL DEFAULT '';

ALTER TABLE class_eval_rows ADD COLUMN newly_wrong INTEGER;
)sql";

// Stable identities (uuid.h) for merging shards: every existing run and experiment gets a random
// version-4 UUID in the same text format as new_uuid().
#define LORICA_SQL_UUID4                                                                       \
    "lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "                \
    "substr(lower(hex(randomblob(2))), 2) || '-' || substr('89ab', 1 + (random() & 3), 1) || " \
    "substr(lower(hex(randomblob(2))), 2) || '-' || lower(hex(randomblob(6)))"
constexpr std::string_view kMigration4 =
    "ALTER TABLE runs ADD COLUMN uuid TEXT;"
    "UPDATE runs SET uuid = " LORICA_SQL_UUID4
    " WHERE uuid IS NULL;"
    "CREATE UNIQUE INDEX runs_uuid ON runs(uuid);"
    "ALTER TABLE experiments ADD COLUMN uuid TEXT;"
    "UPDATE experiments SET uuid = " LORICA_SQL_UUID4
    " WHERE uuid IS NULL;"
    "CREATE UNIQUE INDEX experiments_uuid ON experiments(uuid);";
#undef LORICA_SQL_UUID4

// What the run listing (run_listing.h) and the downsampled curves (step_curve.h) read: runs by start
// time; final-accuracy cells straight from an index (covering); the loss by (run, step) from an index
// (covering; it replaces step_metrics_run, its prefix).
constexpr std::string_view kMigration5 = R"sql(
CREATE INDEX runs_started ON runs(started_at);
CREATE INDEX eval_rows_cells ON eval_rows(run_id, phase, head_mode, after_task, eval_task, correct, total);
CREATE INDEX step_metrics_curve ON step_metrics(run_id, step, loss);
DROP INDEX step_metrics_run;
)sql";

// Loss summaries per block of 64 steps (block = step >> 6), kept by the store next to step_metrics,
// so a downsampled curve of a long run reads ~N/64 rows (step_curve.h). Backfilled from step_metrics.
constexpr std::string_view kMigration6 = R"sql(
CREATE TABLE step_blocks (
    run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    block      INTEGER NOT NULL,
    first_step INTEGER NOT NULL,
    last_step  INTEGER NOT NULL,
    points     INTEGER NOT NULL,
    loss_min   REAL,
    loss_max   REAL,
    loss_sum   REAL,
    loss_n     INTEGER NOT NULL,
    PRIMARY KEY (run_id, block)
) WITHOUT ROWID;
INSERT INTO step_blocks(run_id, block, first_step, last_step, points, loss_min, loss_max, loss_sum, loss_n)
    SELECT run_id, step >> 6, min(step), max(step), count(*), min(loss), max(loss), sum(loss), count(loss)
    FROM step_metrics GROUP BY run_id, step >> 6;
)sql";

// Samples of a foundation class lost since the pre-stream evaluation (contextual forgetting).
constexpr std::string_view kMigration7 = R"sql(
ALTER TABLE class_eval_rows ADD COLUMN lost_since_start INTEGER;
)sql";

// A run's typed facts (run_facts_json.h), so no reader parses its config for them; existing runs get
// theirs derived from their stored config by backfill_run_facts.
constexpr std::string_view kMigration8 = R"sql(
ALTER TABLE runs ADD COLUMN facts_json TEXT NOT NULL DEFAULT '';
)sql";

}  // namespace

const std::vector<Migration>& schema_migrations() {
    static const std::vector<Migration> migrations = {
        {1, "experiments, runs, tasks, step metrics, evaluations, method state, artifacts", kMigration1},
        {2, "analysis points; run notes and duration; task planned steps, trainable parameters, duration", kMigration2},
        {3, "experiment variants and sweeps on runs; newly misclassified samples per class", kMigration3},
        {4, "run and experiment UUIDs (backfilled) for merging shards", kMigration4},
        {5, "indexes for the run listing (start time, accuracy cells) and loss curves", kMigration5},
        {6, "loss summaries per 64-step block for downsampled curves (backfilled)", kMigration6},
        {7, "samples of each foundation class lost since the pre-stream evaluation", kMigration7},
        {8, "typed run facts (method, variant, stream shape, epochs, head mode, class names); backfilled", kMigration8,
         backfill_run_facts},
    };
    return migrations;
}

int latest_schema_version() { return schema_migrations().back().version; }

int schema_version(Database& db) { return static_cast<int>(db.query_int64("PRAGMA user_version")); }

void migrate(Database& db, int target) {
    const int latest = latest_schema_version();
    if (target < 1 || target > latest)
        throw std::invalid_argument("schema version " + std::to_string(target) + " requested for '" + db.path() +
                                    "'; this Lorica knows versions 1.." + std::to_string(latest));

    auto check_not_newer = [&](int version) {
        if (version > latest)
            throw std::runtime_error(
                "results database '" + db.path() + "' has schema version " + std::to_string(version) +
                ", newer than this Lorica (" LORICA_VERSION ") understands (up to " + std::to_string(latest) +
                "); open it with a newer Lorica, or choose another database file");
    };

    int version = schema_version(db);
    check_not_newer(version);
    for (const Migration& m : schema_migrations()) {
        if (m.version <= version) continue;
        if (m.version > target) break;
        Transaction tx(db);
        // Another process may have migrated between our read and taking the write lock.
        const int now = schema_version(db);
        check_not_newer(now);
        if (now >= m.version) {
            version = now;
            continue;
        }
        if (now != m.version - 1)
            throw std::runtime_error("results database '" + db.path() + "' is at schema version " +
                                     std::to_string(now) + ", cannot apply migration " + std::to_string(m.version));
        db.exec(m.sql);
        if (m.backfill) m.backfill(db);
        db.exec("PRAGMA user_version = " + std::to_string(m.version));
        tx.commit();
        version = m.version;
        spdlog::debug("results database '{}': migrated to schema version {} ({})", db.path(), m.version, m.description);
    }
}

}  // namespace lorica
