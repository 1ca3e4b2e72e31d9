// RunStore: opening the results database (pragmas, migration, crash recovery), the store object's
// lifetime, raw access to its connection, and the clock and host helpers the writers stamp rows with.
// Writers: run_writes.cpp; readers: run_reads.cpp (experiments, runs), run_row_reads.cpp (a run's
// rows); crash recovery: interrupted_runs.cpp.

#include "engine/store/run_store.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <unistd.h>

#include "engine/store/run_store_impl.h"
#include "engine/store/schema.h"

namespace lorica {

RunStore::RunStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
RunStore::RunStore(RunStore&&) noexcept = default;
RunStore& RunStore::operator=(RunStore&&) noexcept = default;
RunStore::~RunStore() = default;

RunStore RunStore::open(const std::string& path) {
    if (path.empty()) throw std::invalid_argument("results database path is empty");
    const bool in_memory = path == ":memory:";
    if (!in_memory) {
        const auto parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty()) std::filesystem::create_directories(parent, ec);
        if (ec)
            throw std::runtime_error("results database '" + path + "': cannot create directory '" + parent.string() +
                                     "': " + ec.message());
    }
    auto impl = std::make_unique<Impl>(path);
    Database& db = impl->db;
    {
        // The first statement reads the file header: a corrupt file or a foreign format fails here.
        Statement st(db, "PRAGMA journal_mode = WAL");
        const std::string mode = st.step() ? st.column_text(0) : std::string();
        if (mode != "wal" && !in_memory)
            spdlog::warn(
                "results database '{}': WAL journal mode unavailable (got '{}'); readers may wait for "
                "writers",
                path, mode);
    }
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA foreign_keys = ON");
    migrate(db);
    RunStore store(std::move(impl));
    if (const int n = store.mark_interrupted_runs(); n > 0)
        spdlog::info("results database '{}': marked {} run(s) of ended processes as interrupted", path, n);
    return store;
}

const std::string& RunStore::path() const { return impl_->db.path(); }

void RunStore::with_database(const std::function<void(Database&)>& fn) const {
    std::lock_guard lock(impl_->mutex);
    // Cached statements hold no read snapshot between calls (each is reset after use), so `fn` may
    // attach databases and open its own transactions.
    fn(impl_->db);
}

int RunStore::schema_version() const {
    std::lock_guard lock(impl_->mutex);
    return lorica::schema_version(impl_->db);
}

// ---- helpers ------------------------------------------------------------------------------------

std::string RunStore::now_iso8601() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string RunStore::host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return {};
    return buf;
}

}  // namespace lorica
