// RunStore::list_run_page: the run listing in one SQL query (run_listing.h).

#include <string>

#include "engine/store/run_filter_sql.h"
#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"

namespace lorica {

namespace {

// The matching runs (the filter's five parameters ?1..?5, run_filter_sql.h).
const std::string kMatchingSql =
    std::string(
        "SELECT id, uuid, experiment_id, run_index, seed, method, variant, variant_index, status, started_at, "
        "ended_at, seconds, num_tasks FROM runs WHERE ") +
    kRunFilterCondition;

// The number of matching runs.
const std::string kMatchingCountSql = std::string("SELECT count(*) FROM runs WHERE ") + kRunFilterCondition;

// A run's final class-IL accuracy (`<run>.id` the run) from the covering index eval_rows_cells:
// T = the last row of the matrix, and the mean over its cells j ≤ T (latest row of a cell wins,
// max(rowid) picks it) when all T + 1 are present.
std::string final_accuracy_sql(const std::string& run) {
    return R"sql(
       (SELECT CASE WHEN count(*) = max(cell.t) + 1 THEN avg(cell.percent) END
        FROM (SELECT last.t AS t, e.eval_task, 100.0 * e.correct / e.total AS percent, max(e.rowid)
              FROM (SELECT max(after_task) AS t FROM eval_rows
                    WHERE run_id = )sql" +
           run + R"sql(.id AND phase = 'end_of_task' AND head_mode = 'class_il'
                      AND after_task >= 0 AND eval_task >= 0 AND total > 0) AS last
              JOIN eval_rows AS e
                ON e.run_id = )sql" +
           run + R"sql(.id AND e.phase = 'end_of_task' AND e.head_mode = 'class_il'
               AND e.after_task = last.t AND e.eval_task >= 0 AND e.eval_task <= last.t AND e.total > 0
              GROUP BY e.eval_task) AS cell))sql";
}

// The ORDER BY column of a sort key (a fixed list: never text from the caller).
const char* order_column(RunSortKey key) {
    switch (key) {
        case RunSortKey::id:
            return "id";
        case RunSortKey::experiment:
            return "experiment_id";
        case RunSortKey::variant:
            return "variant";
        case RunSortKey::seed:
            return "seed";
        case RunSortKey::method:
            return "method";
        case RunSortKey::status:
            return "status";
        case RunSortKey::started:
            return "started_at";
        case RunSortKey::seconds:
            return "seconds";
        case RunSortKey::final_accuracy:
            return "final_accuracy";
    }
    return "id";
}

// The listing's SQL for an order. By id (the default): the page of matching runs newest first (LIMIT
// stops the backwards rowid walk early), then each page row's final accuracy. By another runs
// column: the same, ordered by that column. By final accuracy: every matching run's accuracy first.
// Columns: the 13 of kMatchingSql, matching, final_accuracy.
std::string listing_sql(RunSortKey key, bool descending) {
    // The size of the whole matching set (an uncorrelated subquery: evaluated once).
    const std::string matching_count_column = "(" + kMatchingCountSql + ") AS matching";
    const std::string dir = descending ? " DESC" : " ASC";
    const std::string tie = key == RunSortKey::id ? std::string() : ", id DESC";
    if (key == RunSortKey::final_accuracy)
        return std::string("WITH scored AS (SELECT m.*, ") + final_accuracy_sql("m") + " AS final_accuracy FROM (" +
               kMatchingSql +
               ") AS m)\nSELECT scored.id, uuid, experiment_id, run_index, seed, method, variant, "
               "variant_index, status, started_at, ended_at, seconds, num_tasks, " +
               matching_count_column + ", final_accuracy FROM scored ORDER BY final_accuracy IS NULL, final_accuracy" +
               dir + tie + " LIMIT ?6 OFFSET ?7";
    const std::string order = std::string(order_column(key)) + dir + tie;
    return std::string("WITH page AS (") + kMatchingSql + " ORDER BY " + order +
           " LIMIT ?6 OFFSET ?7)\nSELECT page.*, " + matching_count_column + ", " + final_accuracy_sql("page") +
           " AS final_accuracy FROM page ORDER BY " + order;
}

}  // namespace

RunPage RunStore::list_run_page(const RunFilter& f, const RunPageRequest& request) const {
    RunPage page;
    with_database([&](Database& db) {
        Statement st(db, listing_sql(request.sort, request.descending));
        bind_run_filter(st, f);
        st.bind_int64(6, request.limit > 0 ? request.limit : -1);  // LIMIT -1 = no limit
        st.bind_int64(7, request.offset > 0 ? request.offset : 0);
        while (st.step()) {
            RunSummary r;
            r.id = st.column_int64(0);
            r.uuid = st.column_text(1);
            r.experiment_id = st.column_int64(2);
            r.run_index = static_cast<int>(st.column_int64(3));
            r.seed = st.column_int64(4);
            r.method = st.column_text(5);
            r.variant = st.column_text(6);
            r.variant_index = static_cast<int>(st.column_int64(7));
            r.status = run_status_from_string(st.column_text(8));
            r.started_at = st.column_text(9);
            r.ended_at = st.column_text(10);
            r.seconds = st.column_double(11);
            r.num_tasks = static_cast<int>(st.column_int64(12));
            page.matching = st.column_int64(13);
            if (!st.column_is_null(14)) r.final_accuracy = st.column_double(14);
            page.runs.push_back(std::move(r));
        }
        if (page.runs.empty() && request.offset > 0) {
            // The page lies past the end: count the matching runs on their own.
            Statement count(db, kMatchingCountSql);
            bind_run_filter(count, f);
            if (count.step()) page.matching = count.column_int64(0);
        }
    });
    return page;
}

}  // namespace lorica
