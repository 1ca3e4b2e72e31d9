#include "engine/store/shard_merge.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <tuple>

#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"

namespace lorica {

namespace fs = std::filesystem;

namespace {

constexpr const char* kShardSchema = "lorica_shard";  // ATTACH name of the shard in the target connection

// Tables whose rows belong to a run (run_id), copied with it; artifacts get their paths rewritten.
const std::vector<std::string>& run_tables() {
    static const std::vector<std::string> tables = {"tasks",        "step_metrics",    "eval_rows",   "class_eval_rows",
                                                    "method_state", "analysis_points", "step_blocks", "artifacts"};
    return tables;
}

bool terminal(const std::string& status) { return status == "finished" || status == "failed" || status == "cancelled"; }

// Column names of `schema`.`table`, in table order.
std::vector<std::string> columns_of(Database& db, const std::string& schema, const std::string& table) {
    Statement st(db, "PRAGMA " + schema + ".table_info(" + table + ")");
    std::vector<std::string> out;
    while (st.step()) out.push_back(st.column_text(1));
    return out;
}

std::string join(const std::vector<std::string>& names, const std::string& prefix = {}) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + prefix + n;
    return out;
}

std::vector<std::string> without(std::vector<std::string> names, const std::set<std::string>& drop) {
    names.erase(std::remove_if(names.begin(), names.end(), [&](const std::string& n) { return drop.count(n) > 0; }),
                names.end());
    return names;
}

// True when `path` is `prefix` or lies below it (whole components).
bool has_path_prefix(const std::string& path, const std::string& prefix) {
    if (prefix.empty() || path.compare(0, prefix.size(), prefix) != 0) return false;
    return path.size() == prefix.size() || prefix.back() == '/' || path[prefix.size()] == '/';
}

std::string rewrite_path(const std::string& path, const MergeOptions& options, const fs::path& base) {
    if (path.empty()) return path;
    std::string p = path;
    for (const auto& [from, to] : options.artifact_prefixes) {
        if (has_path_prefix(p, from)) {
            p = to + p.substr(from.size());
            break;
        }
    }
    fs::path fp(p);
    if (fp.is_relative()) fp = base / fp;
    return fp.lexically_normal().string();
}

// The shard's meta JSON with its "run_dir" rewritten like a path; unchanged when it has none.
std::string rewrite_meta(const std::string& meta_json, const MergeOptions& options, const fs::path& base) {
    if (meta_json.find("run_dir") == std::string::npos) return meta_json;
    nlohmann::json meta = nlohmann::json::parse(meta_json, nullptr, /*allow_exceptions=*/false);
    if (!meta.is_object() || !meta.contains("run_dir") || !meta["run_dir"].is_string()) return meta_json;
    const std::string before = meta["run_dir"].get<std::string>();
    const std::string after = rewrite_path(before, options, base);
    if (after == before) return meta_json;
    meta["run_dir"] = after;
    return meta.dump();
}

// ATTACHes the shard to the target connection for the lifetime of this object.
class Attachment {
public:
    Attachment(Database& db, const std::string& shard_path) : db_(db) {
        Statement st(db_, std::string("ATTACH DATABASE ? AS ") + kShardSchema);
        st.bind_text(1, shard_path);
        st.execute();
    }
    ~Attachment() {
        try {
            db_.exec(std::string("DETACH DATABASE ") + kShardSchema);
        } catch (...) {}
    }
    Attachment(const Attachment&) = delete;
    Attachment& operator=(const Attachment&) = delete;

private:
    Database& db_;
};

// Copies the shard attached as kShardSchema into the target `db` inside the caller's transaction.
class ShardCopier {
public:
    ShardCopier(Database& db, const MergeOptions& options, const fs::path& base, MergeReport& report)
        : db_(db), options_(options), base_(base), report_(report) {}

    void copy_experiments() {
        const std::string s = kShardSchema;
        const auto cols = without(columns_of(db_, "main", "experiments"), {"id"});
        Statement list(db_, "SELECT id, uuid, created_at FROM " + s + ".experiments ORDER BY id");
        Statement find(db_, "SELECT id, created_at FROM main.experiments WHERE uuid = ?");
        Statement earlier(db_, "UPDATE main.experiments SET created_at = ? WHERE id = ?");
        Statement insert(db_, "INSERT INTO main.experiments(" + join(cols) + ") SELECT " + join(cols) + " FROM " + s +
                                  ".experiments WHERE id = ?");
        while (list.step()) {
            const int64_t shard_id = list.column_int64(0);
            const std::string uuid = list.column_text(1);
            const std::string created = list.column_text(2);
            if (uuid.empty()) throw std::runtime_error("experiment " + std::to_string(shard_id) + " has no uuid");
            find.bind_text(1, uuid);
            if (find.step()) {
                const int64_t id = find.column_int64(0);
                const std::string target_created = find.column_text(1);
                find.reset();
                if (!created.empty() && created < target_created) {
                    earlier.bind_text(1, created).bind_int64(2, id);
                    earlier.execute();
                }
                experiments_[shard_id] = id;
                ++report_.experiments_matched;
                continue;
            }
            find.reset();
            insert.bind_int64(1, shard_id);
            insert.execute();
            experiments_[shard_id] = db_.last_insert_rowid();
            ++report_.experiments_added;
        }
    }

    void copy_runs() {
        const std::string s = kShardSchema;
        const auto run_cols = without(columns_of(db_, "main", "runs"), {"id", "experiment_id"});
        const auto update_cols = without(run_cols, {"notes"});
        Statement list(db_, "SELECT id, uuid, experiment_id FROM " + s +
                                ".runs ORDER BY experiment_id, variant_index, run_index, id");
        Statement find(db_, "SELECT id, status FROM main.runs WHERE uuid = ?");
        Statement insert(db_, "INSERT INTO main.runs(experiment_id, " + join(run_cols) + ") SELECT ?1, " +
                                  join(run_cols) + " FROM " + s + ".runs WHERE id = ?2");
        Statement update(db_, "UPDATE main.runs SET experiment_id = ?1, (" + join(update_cols) + ") = (SELECT " +
                                  join(update_cols) + " FROM " + s +
                                  ".runs WHERE id = ?2), notes = CASE WHEN notes "
                                  "<> '' THEN notes ELSE (SELECT notes FROM " +
                                  s +
                                  ".runs WHERE id = ?2) END "
                                  "WHERE id = ?3");
        std::vector<Statement> clear, copy;
        for (const auto& table : run_tables()) {
            const auto cols = without(columns_of(db_, "main", table), {"run_id"});
            clear.emplace_back(db_, "DELETE FROM main." + table + " WHERE run_id = ?");
            copy.emplace_back(db_, "INSERT INTO main." + table + "(run_id, " + join(cols) + ") SELECT ?1, " +
                                       join(cols) + " FROM " + s + "." + table + " WHERE run_id = ?2 ORDER BY " +
                                       (table == "step_blocks" ? "block" : "rowid"));  // step_blocks: WITHOUT ROWID
        }
        Statement artifacts(db_, "SELECT rowid, path, meta_json FROM main.artifacts WHERE run_id = ?");
        Statement set_artifact(db_, "UPDATE main.artifacts SET path = ?, meta_json = ? WHERE rowid = ?");

        while (list.step()) {
            const int64_t shard_id = list.column_int64(0);
            const std::string uuid = list.column_text(1);
            const bool in_experiment = !list.column_is_null(2);
            const int64_t shard_experiment = list.column_int64(2);
            if (uuid.empty()) throw std::runtime_error("run " + std::to_string(shard_id) + " has no uuid");
            int64_t target_experiment = 0;
            if (in_experiment) {
                auto it = experiments_.find(shard_experiment);
                if (it == experiments_.end())
                    throw std::runtime_error("run " + std::to_string(shard_id) + " refers to experiment " +
                                             std::to_string(shard_experiment) + ", which the shard does not hold");
                target_experiment = it->second;
            }

            int64_t target_id = 0;
            find.bind_text(1, uuid);
            if (find.step()) {
                target_id = find.column_int64(0);
                const std::string status = find.column_text(1);
                find.reset();
                if (terminal(status)) {
                    ++report_.runs_skipped;
                    continue;
                }
                if (in_experiment)
                    update.bind_int64(1, target_experiment);
                else
                    update.bind_null(1);
                update.bind_int64(2, shard_id).bind_int64(3, target_id);
                update.execute();
                for (auto& st : clear) {
                    st.bind_int64(1, target_id);
                    st.execute();
                }
                ++report_.runs_replaced;
            } else {
                find.reset();
                if (in_experiment)
                    insert.bind_int64(1, target_experiment);
                else
                    insert.bind_null(1);
                insert.bind_int64(2, shard_id);
                insert.execute();
                target_id = db_.last_insert_rowid();
                ++report_.runs_added;
            }
            for (auto& st : copy) {
                st.bind_int64(1, target_id).bind_int64(2, shard_id);
                st.execute();
                report_.rows_copied += db_.changes();
            }
            rewrite_artifacts(artifacts, set_artifact, target_id);
        }
    }

private:
    void rewrite_artifacts(Statement& artifacts, Statement& set_artifact, int64_t target_id) {
        std::vector<std::tuple<int64_t, std::string, std::string>> changed;
        artifacts.bind_int64(1, target_id);
        while (artifacts.step()) {
            const std::string path = artifacts.column_text(1);
            const std::string meta = artifacts.column_text(2);
            const std::string new_path = rewrite_path(path, options_, base_);
            const std::string new_meta = rewrite_meta(meta, options_, base_);
            std::error_code ec;
            if (!new_path.empty() && !fs::exists(new_path, ec)) ++report_.artifacts_missing;
            if (new_path != path || new_meta != meta)
                changed.emplace_back(artifacts.column_int64(0), new_path, new_meta);
        }
        artifacts.reset();
        for (const auto& [rowid, path, meta] : changed) {
            set_artifact.bind_text(1, path).bind_text(2, meta).bind_int64(3, rowid);
            set_artifact.execute();
            ++report_.artifacts_rewritten;
        }
    }

    Database& db_;
    const MergeOptions& options_;
    fs::path base_;
    MergeReport& report_;
    std::map<int64_t, int64_t> experiments_;  // shard experiment id → target experiment id
};

}  // namespace

ShardMergeError::ShardMergeError(const std::string& shard, const std::string& reason)
    : std::runtime_error("shard '" + shard + "': " + reason), shard_(shard) {}

void check_shard(const std::string& shard_path) {
    std::error_code ec;
    const auto status = fs::status(shard_path, ec);
    if (ec || !fs::exists(status)) throw ShardMergeError(shard_path, "no such file");
    if (!fs::is_regular_file(status)) throw ShardMergeError(shard_path, "not a regular file");
    {
        std::ifstream in(shard_path, std::ios::binary);
        char header[16] = {};
        in.read(header, sizeof header);
        if (!in || std::string(header, sizeof header) != std::string("SQLite format 3\0", 16))
            throw ShardMergeError(shard_path, "not a Lorica results database (not an SQLite database file)");
    }
    const int latest = latest_schema_version();
    try {
        Database db(shard_path, OpenMode::read_only);
        const int version = schema_version(db);
        std::set<std::string> tables;
        {
            Statement st(db, "SELECT name FROM sqlite_master WHERE type = 'table'");
            while (st.step()) tables.insert(st.column_text(0));
        }
        if (version == 0 || !tables.count("runs") || !tables.count("experiments"))
            throw ShardMergeError(shard_path,
                                  "not a Lorica results database (SQLite file without Lorica's tables, "
                                  "schema version " +
                                      std::to_string(version) + ")");
        if (version > latest)
            throw ShardMergeError(shard_path, "written by a newer Lorica (schema version " + std::to_string(version) +
                                                  "; this Lorica reads up to " + std::to_string(latest) +
                                                  "): merge it with a newer lorica-cli");
        if (version < latest)
            throw ShardMergeError(shard_path, "has the older schema version " + std::to_string(version) +
                                                  " (this Lorica writes " + std::to_string(latest) +
                                                  "): open it once with this Lorica to upgrade it (e.g. `lorica-cli "
                                                  "runs --db " +
                                                  shard_path + "`), then merge it");
        for (const auto& table : run_tables())
            if (!tables.count(table)) throw ShardMergeError(shard_path, "damaged: table '" + table + "' is missing");
        Statement check(db, "PRAGMA quick_check(5)");
        std::string problems;
        while (check.step()) {
            const std::string line = check.column_text(0);
            if (line == "ok") break;
            problems += (problems.empty() ? "" : "; ") + line;
        }
        if (!problems.empty()) throw ShardMergeError(shard_path, "damaged (SQLite integrity check: " + problems + ")");
    } catch (const DatabaseError& e) {
        throw ShardMergeError(shard_path, std::string("damaged or not a Lorica results database: ") + e.what());
    }
}

MergeReport merge_shard(RunStore& target, const std::string& shard_path, const MergeOptions& options) {
    const auto start = std::chrono::steady_clock::now();
    check_shard(shard_path);
    if (target.path() != ":memory:") {
        std::error_code ec;
        if (fs::equivalent(target.path(), shard_path, ec))
            throw ShardMergeError(shard_path, "is the target database itself");
    }
    MergeReport report;
    report.shard = shard_path;
    std::error_code ec;
    fs::path base = options.artifact_base.empty() ? fs::absolute(shard_path, ec).parent_path()
                                                  : fs::absolute(options.artifact_base, ec);
    target.with_database([&](Database& db) {
        try {
            Attachment attached(db, shard_path);
            const int version =
                static_cast<int>(db.query_int64(std::string("PRAGMA ") + kShardSchema + ".user_version"));
            if (version != latest_schema_version())
                throw ShardMergeError(shard_path,
                                      "changed while being merged (schema version " + std::to_string(version) + ")");
            Transaction tx(db);
            ShardCopier copier(db, options, base, report);
            copier.copy_experiments();
            copier.copy_runs();
            tx.commit();
        } catch (const ShardMergeError&) {
            throw;
        } catch (const std::exception& e) {
            throw ShardMergeError(shard_path, std::string("merge into '") + target.path() +
                                                  "' failed and was rolled back (target unchanged): " + e.what());
        }
    });
    report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
}

std::string describe(const MergeReport& r) {
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s: %d run(s) added, %d replaced, %d already present; %d experiment(s) added, %d matched; "
                  "%lld rows; %.2f s",
                  r.shard.c_str(), r.runs_added, r.runs_replaced, r.runs_skipped, r.experiments_added,
                  r.experiments_matched, static_cast<long long>(r.rows_copied), r.seconds);
    std::string out = buf;
    if (r.artifacts_rewritten > 0) out += "; " + std::to_string(r.artifacts_rewritten) + " artifact path(s) rewritten";
    if (r.artifacts_missing > 0)
        out += "; " + std::to_string(r.artifacts_missing) + " artifact path(s) not found on this machine";
    return out;
}

}  // namespace lorica
