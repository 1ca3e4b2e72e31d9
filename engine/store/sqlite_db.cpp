#include "engine/store/sqlite_db.h"

#include <sqlite3.h>

#include <algorithm>
#include <utility>

namespace lorica {

namespace {

// One line, at most ~160 characters, for error messages.
std::string abbreviate_sql(std::string_view sql) {
    constexpr std::size_t kMax = 160;
    std::string out;
    out.reserve(std::min(sql.size(), kMax + 3));
    bool space = false;
    for (char c : sql) {
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = !out.empty();
            continue;
        }
        if (space) out.push_back(' ');
        space = false;
        out.push_back(c);
        if (out.size() >= kMax) {
            out += "...";
            break;
        }
    }
    return out;
}

std::string hint_for(int code) {
    switch (code) {
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
            return " — the file is not a SQLite database or is damaged (is this a Lorica results store?)";
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
            return " — another connection held the database for longer than the busy timeout";
        case SQLITE_CANTOPEN:
            return " — check that the directory exists and is writable";
        case SQLITE_READONLY:
            return " — the database is read-only (opened read-only, or no write permission)";
        case SQLITE_FULL:
            return " — the disk is full";
        default:
            return {};
    }
}

std::string compose(const std::string& path, std::string_view step, std::string_view sql, std::string_view detail,
                    int code) {
    std::string msg = "SQLite database '" + path + "': " + std::string(step) + " failed";
    if (!sql.empty()) msg += " for `" + abbreviate_sql(sql) + "`";
    msg += ": " + std::string(detail) + " (code " + std::to_string(code) + ")" + hint_for(code);
    return msg;
}

}  // namespace

DatabaseError::DatabaseError(const std::string& path, std::string_view step, std::string_view sql,
                             std::string_view detail, int code)
    : std::runtime_error(compose(path, step, sql, detail, code)), code_(code), path_(path) {}

// ---- Database -----------------------------------------------------------------------------------

Database::Database(const std::string& path, OpenMode mode) : path_(path) {
    int flags = 0;
    switch (mode) {
        case OpenMode::read_only:
            flags = SQLITE_OPEN_READONLY;
            break;
        case OpenMode::read_write:
            flags = SQLITE_OPEN_READWRITE;
            break;
        case OpenMode::read_write_create:
            flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
            break;
    }
    const int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        const std::string detail = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        close();
        throw DatabaseError(path_, "open", {}, detail, rc);
    }
    sqlite3_busy_timeout(db_, kBusyTimeoutMs);
}

Database::~Database() { close(); }

Database::Database(Database&& other) noexcept : db_(std::exchange(other.db_, nullptr)), path_(std::move(other.path_)) {}

Database& Database::operator=(Database&& other) noexcept {
    if (this != &other) {
        close();
        db_ = std::exchange(other.db_, nullptr);
        path_ = std::move(other.path_);
    }
    return *this;
}

void Database::close() noexcept {
    if (db_) {
        // sqlite3_close_v2 defers the close until any statement still alive is finalized.
        sqlite3_close_v2(db_);
        db_ = nullptr;
    }
}

void Database::exec(std::string_view sql) {
    const std::string text(sql);
    char* err = nullptr;
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        const std::string detail = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw DatabaseError(path_, "exec", sql, detail, rc);
    }
}

Statement Database::prepare(std::string_view sql, bool persistent) { return Statement(*this, sql, persistent); }

int64_t Database::query_int64(std::string_view sql) {
    Statement st(*this, sql);
    if (!st.step()) throw DatabaseError(path_, "query", sql, "the query returned no row", SQLITE_ERROR);
    return st.column_int64(0);
}

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

int64_t Database::changes() const { return sqlite3_changes(db_); }

bool Database::in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

// ---- Statement ----------------------------------------------------------------------------------

Statement::Statement(Database& db, std::string_view sql, bool persistent)
    : db_(db.handle()), path_(db.path()), sql_(sql) {
    const unsigned flags = persistent ? SQLITE_PREPARE_PERSISTENT : 0;
    const int rc = sqlite3_prepare_v3(db_, sql_.data(), static_cast<int>(sql_.size()), flags, &stmt_, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(stmt_);
        stmt_ = nullptr;
        fail("prepare", rc);
    }
    if (!stmt_) throw DatabaseError(path_, "prepare", sql_, "the SQL text holds no statement", SQLITE_MISUSE);
}

Statement::~Statement() {
    if (stmt_) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(std::exchange(other.stmt_, nullptr)),
      path_(std::move(other.path_)),
      sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
    if (this != &other) {
        if (stmt_) sqlite3_finalize(stmt_);
        db_ = other.db_;
        stmt_ = std::exchange(other.stmt_, nullptr);
        path_ = std::move(other.path_);
        sql_ = std::move(other.sql_);
    }
    return *this;
}

void Statement::fail(std::string_view step, int code) const {
    throw DatabaseError(path_, step, sql_, sqlite3_errmsg(db_), code);
}

Statement& Statement::bind_int64(int index, int64_t value) {
    if (const int rc = sqlite3_bind_int64(stmt_, index, value); rc != SQLITE_OK) fail("bind", rc);
    return *this;
}

Statement& Statement::bind_double(int index, double value) {
    if (const int rc = sqlite3_bind_double(stmt_, index, value); rc != SQLITE_OK) fail("bind", rc);
    return *this;
}

Statement& Statement::bind_text(int index, std::string_view value) {
    const int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
    if (rc != SQLITE_OK) fail("bind", rc);
    return *this;
}

Statement& Statement::bind_null(int index) {
    if (const int rc = sqlite3_bind_null(stmt_, index); rc != SQLITE_OK) fail("bind", rc);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    // The primary code of the failure (sqlite3_step returns it directly with prepare_v2/v3).
    fail("step", rc & 0xff);
}

void Statement::execute() {
    try {
        step();
    } catch (...) {
        reset();
        throw;
    }
    reset();
}

void Statement::reset() noexcept {
    if (!stmt_) return;
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

int Statement::column_count() const { return sqlite3_column_count(stmt_); }

bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

int64_t Statement::column_int64(int index) const { return sqlite3_column_int64(stmt_, index); }

double Statement::column_double(int index) const { return sqlite3_column_double(stmt_, index); }

std::string Statement::column_text(int index) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, index));
    if (!text) return {};
    return std::string(text, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, index)));
}

// ---- Transaction --------------------------------------------------------------------------------

Transaction::Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
    if (committed_ || !db_.handle() || !db_.in_transaction()) return;
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
}

void Transaction::commit() {
    db_.exec("COMMIT");
    committed_ = true;
}

}  // namespace lorica
