#pragma once
// RunStore::Impl: what a RunStore owns (run_store.h): one SQLite connection, the lock every call
// takes, and the cache of prepared statements. Private to the store's own .cpp files
// (run_store.cpp, run_writes.cpp, step_block_summaries.cpp, run_reads.cpp, run_row_reads.cpp,
// interrupted_runs.cpp); other store modules use RunStore::with_database instead.
//
// Invariants: every member function of RunStore that touches `db` or `statements` holds `mutex`;
// a cached statement is reset before it is handed out (`prepared`) and, for reads, when the read
// leaves scope (ResetOnExit), so no statement holds a read snapshot between calls. Reads go through
// `for_each_row` / `first_row`, which keep both.

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

// Binders for RunStore::Impl::for_each_row / first_row: none, or ?1 = `value` (a text binder keeps a
// reference: use it within the read).
inline void bind_no_parameters(Statement&) {}
inline auto bind_first_parameter(int64_t value) {
    return [value](Statement& st) { st.bind_int64(1, value); };
}
inline auto bind_first_parameter(const std::string& value) {
    return [&value](Statement& st) { st.bind_text(1, value); };
}

struct RunStore::Impl {
    explicit Impl(const std::string& path) : db(path, OpenMode::read_write_create) {}

    // A cached prepared statement, reset and ready to bind.
    Statement& prepared(const std::string& sql) {
        auto it = statements.find(sql);
        if (it == statements.end()) it = statements.emplace(sql, Statement(db, sql, true)).first;
        it->second.reset();
        return it->second;
    }

    // A read under the store's lock: the cached statement `sql`, `bind(Statement&)` to set its
    // parameters, then `row(const Statement&)` for every result row, in the statement's order. The
    // statement is reset when the read ends (returned or thrown).
    template <typename Bind, typename Row>
    void for_each_row(const std::string& sql, Bind&& bind, Row&& row) {
        std::lock_guard lock(mutex);
        for_each_row_locked(sql, bind, row);
    }
    // The same for a caller that holds `mutex` already.
    template <typename Bind, typename Row>
    void for_each_row_locked(const std::string& sql, Bind&& bind, Row&& row) {
        Statement& st = prepared(sql);
        ResetOnExit guard{st};
        bind(st);
        while (st.step()) row(static_cast<const Statement&>(st));
    }
    // The first result row only, read by `row(const Statement&)`; false when there is none.
    template <typename Bind, typename Row>
    bool first_row(const std::string& sql, Bind&& bind, Row&& row) {
        std::lock_guard lock(mutex);
        Statement& st = prepared(sql);
        ResetOnExit guard{st};
        bind(st);
        if (!st.step()) return false;
        row(static_cast<const Statement&>(st));
        return true;
    }

    void write_batch(int64_t run_id, const RunBatch& batch);
    void write_step_blocks(int64_t run_id, const std::vector<StepMetrics>& steps);

    Database db;  // declared first: destroyed last, after every statement
    std::mutex mutex;
    std::map<std::string, Statement> statements;
};

}  // namespace lorica
