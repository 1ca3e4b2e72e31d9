#pragma once
// RunStore::Impl: what a RunStore owns (run_store.h): one SQLite connection, the lock every call
// takes, and the cache of prepared statements. Private to the store's own .cpp files
// (run_store.cpp, run_writes.cpp, step_block_summaries.cpp, run_reads.cpp, run_row_reads.cpp,
// interrupted_runs.cpp); other store modules use RunStore::with_database instead.
//
// Invariants: every member function of RunStore that touches `db` or `statements` holds `mutex`;
// a cached statement is reset before it is handed out (`prepared`) and, for reads, when the read
// leaves scope (ResetOnExit), so no statement holds a read snapshot between calls.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"

namespace lorica {

// Resets a cached statement when a read or write leaves scope (releases its read snapshot).
struct ResetOnExit {
    Statement& st;
    ~ResetOnExit() { st.reset(); }
};

struct RunStore::Impl {
    explicit Impl(const std::string& path) : db(path, OpenMode::read_write_create) {}

    // A cached prepared statement, reset and ready to bind.
    Statement& prepared(const std::string& sql) {
        auto it = statements.find(sql);
        if (it == statements.end()) it = statements.emplace(sql, Statement(db, sql, true)).first;
        it->second.reset();
        return it->second;
    }

    void write_batch(int64_t run_id, const RunBatch& batch);
    void write_step_blocks(int64_t run_id, const std::vector<StepMetrics>& steps);
    std::vector<RunRecord> query_runs(const RunFilter& filter);

    Database db;  // declared first: destroyed last, after every statement
    std::mutex mutex;
    std::map<std::string, Statement> statements;
};

}  // namespace lorica
