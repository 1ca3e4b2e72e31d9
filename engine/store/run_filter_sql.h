#pragma once
// A RunFilter (run_records.h) in SQL, written once for every query that selects runs by it (the
// record reads, run_reads.cpp, and the paged listing with its count, run_listing.cpp).
//
// The condition has a fixed shape, parameters ?1..?5, each part disabled by a NULL parameter, so a
// statement using it is prepared once whatever the filter:
//   ?1  method_contains   instr(lower(method), lower(?1)) > 0   (case-insensitive substring)
//   ?2  status            status = ?2
//   ?3  experiment_id     experiment_id = ?3
//   ?4  since             started_at >= ?4
//   ?5  until             substr(started_at, 1, length(?5)) <= ?5   (inclusive of its whole prefix)
// Columns are unqualified: the condition reads the `runs` table of the FROM it is put after.

#include "engine/store/run_records.h"
#include "engine/store/sqlite_db.h"

namespace lorica {

inline constexpr const char* kRunFilterCondition =
    "(?1 IS NULL OR instr(lower(method), lower(?1)) > 0)"
    " AND (?2 IS NULL OR status = ?2)"
    " AND (?3 IS NULL OR experiment_id = ?3)"
    " AND (?4 IS NULL OR started_at >= ?4)"
    " AND (?5 IS NULL OR substr(started_at, 1, length(?5)) <= ?5)";

// Binds the filter's set fields to ?1..?5 of `st`; the unset ones stay NULL (a freshly prepared or
// reset statement has every parameter NULL).
void bind_run_filter(Statement& st, const RunFilter& filter);

}  // namespace lorica
