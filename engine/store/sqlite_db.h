#pragma once
// A small RAII layer over the SQLite C API: one open database, prepared statements, transactions.
//
// Purpose: the results store (run_store.h) and its schema migrations (schema.h) talk to SQLite only
// through these three classes, so every handle is closed exactly once and every failure becomes a
// `DatabaseError` whose message names the database file, the step that failed (open, prepare, bind,
// step, exec) and the SQL text, e.g.
//
//     SQLite database '/home/me/.lorica/results.db': step failed for `INSERT INTO runs ...`:
//     database is locked (code 5) — another process held the database for longer than the busy timeout
//
// Conventions (SQLite's own): bind indices are 1-based, column indices are 0-based. Text is UTF-8.
// Every connection waits up to `kBusyTimeoutMs` for a lock held by another connection before it fails
// with SQLITE_BUSY.
//
// Threading: a `Database` and its `Statement`s belong to one thread at a time (the store serialises
// access with its own mutex). Separate connections (other threads or processes) may read while one
// writes when the database is in WAL journal mode.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace lorica {

// How long a connection waits for another connection's lock before failing, in milliseconds.
inline constexpr int kBusyTimeoutMs = 5000;

// Any SQLite failure. `what()` names the database file, the failed step and the SQL (abbreviated).
class DatabaseError : public std::runtime_error {
public:
    // path:   the database file (":memory:" for an in-memory database)
    // step:   what was being done: "open", "prepare", "bind", "step", "exec", ...
    // sql:    the SQL text involved (may be empty); abbreviated to one line in the message
    // detail: SQLite's error message (sqlite3_errmsg)
    // code:   SQLite's primary result code (SQLITE_BUSY, SQLITE_NOTADB, ...)
    DatabaseError(const std::string& path, std::string_view step, std::string_view sql, std::string_view detail,
                  int code);

    int code() const noexcept { return code_; }                 // SQLite primary result code
    const std::string& path() const noexcept { return path_; }  // the database file

private:
    int code_ = 0;
    std::string path_;
};

// How a database file is opened.
//  read_only:         fails when the file does not exist; writes fail with SQLITE_READONLY
//  read_write:        fails when the file does not exist
//  read_write_create: creates an empty database when the file does not exist
enum class OpenMode { read_only, read_write, read_write_create };

class Statement;

// One open SQLite connection. Closed in the destructor. Movable, not copyable.
class Database {
public:
    // Opens (or creates, per `mode`) the database at `path` and sets the busy timeout. The parent
    // directory must exist. Opening is lazy in SQLite: a file that is not a database is only detected
    // by the first statement that reads it (which then throws a DatabaseError naming the file).
    explicit Database(const std::string& path, OpenMode mode = OpenMode::read_write_create);
    ~Database();

    Database(Database&& other) noexcept;
    Database& operator=(Database&& other) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // Runs one or more SQL statements separated by ';' that return no rows of interest.
    void exec(std::string_view sql);

    // Prepares one statement (see Statement). `persistent`: a hint that the statement is kept and
    // reused many times (SQLITE_PREPARE_PERSISTENT).
    Statement prepare(std::string_view sql, bool persistent = false);

    // Runs a query and returns the first column of its first row as an integer, e.g.
    // `query_int64("PRAGMA user_version")`. Throws when the query returns no row.
    int64_t query_int64(std::string_view sql);

    // Rowid of the last successful INSERT on this connection.
    int64_t last_insert_rowid() const;
    // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    int64_t changes() const;
    // True while a transaction is open on this connection (not in autocommit mode).
    bool in_transaction() const;

    const std::string& path() const noexcept { return path_; }  // as given to the constructor
    sqlite3* handle() const noexcept { return db_; }            // raw handle; owned by this object

private:
    void close() noexcept;

    sqlite3* db_ = nullptr;
    std::string path_;
};

// One prepared statement. Finalized in the destructor; must not outlive its Database.
//
// Use: bind parameters (1-based `?` positions), then `step()` until it returns false (one row per
// true), read columns of the current row (0-based), then `reset()` to run it again with new bindings.
class Statement {
public:
    Statement(Database& db, std::string_view sql, bool persistent = false);
    ~Statement();

    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&& other) noexcept;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // ---- parameters (index: 1-based position of the `?`) ----
    Statement& bind_int64(int index, int64_t value);
    Statement& bind_double(int index, double value);          // NaN is stored by SQLite as NULL
    Statement& bind_text(int index, std::string_view value);  // copied by SQLite
    Statement& bind_null(int index);

    // ---- execution ----
    // Advances to the next row: true when a row is available, false when the statement is done.
    bool step();
    // Steps once (for INSERT/UPDATE/DELETE/DDL), then resets so the statement can be run again.
    void execute();
    // Rewinds the statement and clears all bindings (to NULL). Never throws.
    void reset() noexcept;

    // ---- columns of the current row (index: 0-based) ----
    int column_count() const;
    bool column_is_null(int index) const;
    int64_t column_int64(int index) const;     // NULL reads as 0
    double column_double(int index) const;     // NULL reads as 0.0
    std::string column_text(int index) const;  // NULL reads as ""

    const std::string& sql() const noexcept { return sql_; }

private:
    [[noreturn]] void fail(std::string_view step, int code) const;

    sqlite3* db_ = nullptr;  // not owned
    sqlite3_stmt* stmt_ = nullptr;
    std::string path_;  // database file, for error messages
    std::string sql_;
};

// A write transaction: BEGIN IMMEDIATE in the constructor (takes the write lock at once, waiting up
// to the busy timeout), COMMIT in `commit()`, ROLLBACK in the destructor when not committed. Not
// movable: it lives in one scope.
class Transaction {
public:
    explicit Transaction(Database& db);
    ~Transaction();

    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

    // Commits. After a failed commit the destructor still rolls back.
    void commit();
    bool committed() const noexcept { return committed_; }

private:
    Database& db_;
    bool committed_ = false;
};

}  // namespace lorica
