#include "engine/store/run_store.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"
#include "engine/store/uuid.h"

#ifndef LORICA_VERSION
#define LORICA_VERSION "unknown"
#endif

namespace lorica {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// REAL columns that may hold NaN: SQLite stores NaN as NULL, so NULL reads back as NaN.
double real_or_nan(const Statement& st, int index) { return st.column_is_null(index) ? kNaN : st.column_double(index); }

// Resets a cached statement when a read or write leaves scope (releases its read snapshot).
struct ResetOnExit {
    Statement& st;
    ~ResetOnExit() { st.reset(); }
};

constexpr const char* kRunColumns =
    "id, experiment_id, run_index, seed, method, config_json, config_hash, lorica_version, torch_version, device, "
    "host, pid, started_at, ended_at, status, message, num_tasks, total_steps, notes, seconds, variant, variant_index, "
    "sweep_field, sweep_value, uuid";

RunRecord read_run(const Statement& st) {
    RunRecord r;
    r.id = st.column_int64(0);
    r.experiment_id = st.column_int64(1);
    r.run_index = static_cast<int>(st.column_int64(2));
    r.seed = st.column_int64(3);
    r.method = st.column_text(4);
    r.config_json = st.column_text(5);
    r.config_hash = st.column_text(6);
    r.lorica_version = st.column_text(7);
    r.torch_version = st.column_text(8);
    r.device = st.column_text(9);
    r.host = st.column_text(10);
    r.pid = st.column_int64(11);
    r.started_at = st.column_text(12);
    r.ended_at = st.column_text(13);
    r.status = run_status_from_string(st.column_text(14));
    r.message = st.column_text(15);
    r.num_tasks = static_cast<int>(st.column_int64(16));
    r.total_steps = st.column_int64(17);
    r.notes = st.column_text(18);
    r.seconds = st.column_double(19);
    r.variant = st.column_text(20);
    r.variant_index = static_cast<int>(st.column_int64(21));
    r.sweep_field = st.column_text(22);
    r.sweep_value = st.column_text(23);
    r.uuid = st.column_text(24);
    return r;
}

ExperimentRecord read_experiment(const Statement& st) {
    ExperimentRecord e;
    e.id = st.column_int64(0);
    e.name = st.column_text(1);
    e.config_json = st.column_text(2);
    e.config_hash = st.column_text(3);
    e.created_at = st.column_text(4);
    e.uuid = st.column_text(5);
    return e;
}

std::string classes_to_json(const std::vector<int>& classes) { return nlohmann::json(classes).dump(); }

// Artifact paths are stored absolute (relative ones resolved against this process's working
// directory), so they stay valid when the database is read from elsewhere or merged (shard_merge.h).
std::string absolute_artifact_path(const std::string& path) {
    if (path.empty()) return path;
    std::error_code ec;
    const auto absolute = std::filesystem::absolute(path, ec);
    return ec ? path : absolute.lexically_normal().string();
}

std::vector<int> classes_from_json(const std::string& text, const std::string& path) {
    if (text.empty()) return {};
    try {
        return nlohmann::json::parse(text).get<std::vector<int>>();
    } catch (const std::exception& e) {
        throw std::runtime_error("results database '" + path + "': malformed tasks.classes_json '" + text +
                                 "': " + e.what());
    }
}

}  // namespace

// ---- RunBatch -----------------------------------------------------------------------------------

std::size_t RunBatch::rows() const {
    std::size_t n = task_starts.size() + task_ends.size() + steps.size() + eval_rows.size() + class_rows.size() +
                    analysis_points.size() + artifacts.size();
    for (const auto& s : method_states) n += std::max<std::size_t>(1, s.values.size());
    return n;
}

void RunBatch::clear() {
    task_starts.clear();
    task_ends.clear();
    steps.clear();
    eval_rows.clear();
    class_rows.clear();
    method_states.clear();
    analysis_points.clear();
    artifacts.clear();
    artifact_times.clear();
}

// ---- RunStore::Impl -----------------------------------------------------------------------------

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

void RunStore::Impl::write_batch(int64_t run_id, const RunBatch& b) {
    if (!b.task_starts.empty()) {
        Statement& st = prepared(
            "INSERT INTO tasks(run_id, task_index, planned_steps, trainable_parameters) VALUES(?, ?, ?, ?) "
            "ON CONFLICT(run_id, task_index) DO UPDATE SET planned_steps = excluded.planned_steps, "
            "trainable_parameters = excluded.trainable_parameters");
        for (const auto& t : b.task_starts) {
            st.bind_int64(1, run_id).bind_int64(2, t.task).bind_int64(3, t.steps).bind_int64(4, t.trainable_parameters);
            st.execute();
        }
    }
    if (!b.task_ends.empty()) {
        Statement& st = prepared(
            "INSERT INTO tasks(run_id, task_index, seconds) VALUES(?, ?, ?) "
            "ON CONFLICT(run_id, task_index) DO UPDATE SET seconds = excluded.seconds");
        for (const auto& t : b.task_ends) {
            st.bind_int64(1, run_id).bind_int64(2, t.task).bind_double(3, t.seconds);
            st.execute();
        }
    }
    if (!b.steps.empty()) {
        Statement& st = prepared(
            "INSERT INTO step_metrics(run_id, task_index, epoch, step, step_in_task, loss, lr, step_ms) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
        for (const auto& s : b.steps) {
            st.bind_int64(1, run_id).bind_int64(2, s.task).bind_int64(3, s.epoch).bind_int64(4, s.step);
            st.bind_int64(5, s.step_in_task).bind_double(6, s.loss).bind_double(7, s.lr).bind_double(8, s.step_ms);
            st.execute();
        }
    }
    if (!b.steps.empty()) write_step_blocks(run_id, b.steps);
    if (!b.eval_rows.empty()) {
        Statement& st = prepared(
            "INSERT INTO eval_rows(run_id, after_task, eval_task, step, phase, head_mode, correct, total) "
            "VALUES(?, ?, ?, ?, ?, ?, ?, ?)");
        for (const auto& r : b.eval_rows) {
            st.bind_int64(1, run_id).bind_int64(2, r.after_task).bind_int64(3, r.eval_task).bind_int64(4, r.step);
            st.bind_text(5, to_string(r.phase)).bind_text(6, to_string(r.head_mode));
            st.bind_int64(7, r.correct).bind_int64(8, r.total);
            st.execute();
        }
    }
    if (!b.class_rows.empty()) {
        Statement& st = prepared(
            "INSERT INTO class_eval_rows(run_id, after_task, eval_task, class_id, correct, total, newly_wrong) "
            "VALUES(?, ?, ?, ?, ?, ?, ?)");
        for (const auto& r : b.class_rows) {
            st.bind_int64(1, run_id).bind_int64(2, r.after_task).bind_int64(3, r.eval_task);
            st.bind_int64(4, r.class_id).bind_int64(5, r.correct).bind_int64(6, r.total);
            if (r.newly_wrong >= 0) st.bind_int64(7, r.newly_wrong);
            else st.bind_null(7);
            st.execute();
        }
    }
    if (!b.method_states.empty()) {
        Statement& st = prepared(
            "INSERT INTO method_state(run_id, task_index, step, key, idx, value) VALUES(?, ?, ?, ?, ?, ?)");
        for (const auto& m : b.method_states) {
            if (m.values.empty()) {  // marker row: an empty vector was recorded
                st.bind_int64(1, run_id).bind_int64(2, m.task).bind_int64(3, m.step).bind_text(4, name_of(m.key));
                st.bind_int64(5, -1).bind_null(6);
                st.execute();
                continue;
            }
            for (std::size_t i = 0; i < m.values.size(); ++i) {
                st.bind_int64(1, run_id).bind_int64(2, m.task).bind_int64(3, m.step).bind_text(4, name_of(m.key));
                st.bind_int64(5, static_cast<int64_t>(i)).bind_double(6, m.values[i]);
                st.execute();
            }
        }
    }
    if (!b.analysis_points.empty()) {
        Statement& st = prepared("INSERT INTO analysis_points(run_id, analysis, series, x, y) VALUES(?, ?, ?, ?, ?)");
        for (const auto& p : b.analysis_points) {
            st.bind_int64(1, run_id).bind_text(2, name_of(p.analysis)).bind_text(3, name_of(p.series));
            st.bind_double(4, p.x).bind_double(5, p.y);
            st.execute();
        }
    }
    if (!b.artifacts.empty()) {
        Statement& st =
            prepared("INSERT INTO artifacts(run_id, kind, path, meta_json, created_at) VALUES(?, ?, ?, ?, ?)");
        for (std::size_t i = 0; i < b.artifacts.size(); ++i) {
            const auto& a = b.artifacts[i];
            const bool has_time = i < b.artifact_times.size() && !b.artifact_times[i].empty();
            st.bind_int64(1, run_id).bind_text(2, a.kind).bind_text(3, absolute_artifact_path(a.path));
            st.bind_text(4, a.meta_json);
            st.bind_text(5, has_time ? b.artifact_times[i] : now_iso8601());
            st.execute();
        }
    }
}

// Folds the steps' losses into their 64-step blocks (schema v6, step_curve.h): one upsert per block
// touched by the batch.
void RunStore::Impl::write_step_blocks(int64_t run_id, const std::vector<StepMetrics>& steps) {
    struct Block {
        int64_t first = 0, last = 0, points = 0, n = 0;
        double min = 0, max = 0, sum = 0;
    };
    std::map<int64_t, Block> blocks;
    for (const auto& s : steps) {
        auto [it, fresh] = blocks.try_emplace(s.step >> 6);
        Block& b = it->second;
        if (fresh) b.first = b.last = s.step;
        b.first = std::min(b.first, s.step);
        b.last = std::max(b.last, s.step);
        ++b.points;
        if (std::isnan(s.loss)) continue;
        if (b.n == 0) b.min = b.max = s.loss;
        b.min = std::min(b.min, s.loss);
        b.max = std::max(b.max, s.loss);
        b.sum += s.loss;
        ++b.n;
    }
    Statement& st = prepared(
        "INSERT INTO step_blocks(run_id, block, first_step, last_step, points, loss_min, loss_max, loss_sum, loss_n) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, block) DO UPDATE SET "
        "first_step = min(first_step, excluded.first_step), last_step = max(last_step, excluded.last_step), "
        "points = points + excluded.points, "
        "loss_min = min(coalesce(loss_min, excluded.loss_min), coalesce(excluded.loss_min, loss_min)), "
        "loss_max = max(coalesce(loss_max, excluded.loss_max), coalesce(excluded.loss_max, loss_max)), "
        "loss_sum = CASE WHEN loss_sum IS NULL THEN excluded.loss_sum WHEN excluded.loss_sum IS NULL THEN loss_sum "
        "ELSE loss_sum + excluded.loss_sum END, loss_n = loss_n + excluded.loss_n");
    for (const auto& [block, b] : blocks) {
        st.bind_int64(1, run_id).bind_int64(2, block).bind_int64(3, b.first).bind_int64(4, b.last);
        st.bind_int64(5, b.points);
        if (b.n > 0) st.bind_double(6, b.min).bind_double(7, b.max).bind_double(8, b.sum);
        else st.bind_null(6).bind_null(7).bind_null(8);
        st.bind_int64(9, b.n);
        st.execute();
    }
}

std::vector<RunRecord> RunStore::Impl::query_runs(const RunFilter& f) {
    // A fixed statement shape (each filter disabled by a NULL parameter), so it is prepared once.
    Statement& st = prepared(std::string("SELECT ") + kRunColumns +
                             " FROM runs WHERE (?1 IS NULL OR instr(lower(method), lower(?1)) > 0)"
                             " AND (?2 IS NULL OR status = ?2)"
                             " AND (?3 IS NULL OR experiment_id = ?3)"
                             " AND (?4 IS NULL OR started_at >= ?4)"
                             " AND (?5 IS NULL OR substr(started_at, 1, length(?5)) <= ?5)"
                             " ORDER BY id");
    ResetOnExit guard{st};
    if (!f.method_contains.empty()) st.bind_text(1, f.method_contains);
    if (f.status) st.bind_text(2, to_string(*f.status));
    if (f.experiment_id) st.bind_int64(3, *f.experiment_id);
    if (!f.since.empty()) st.bind_text(4, f.since);
    if (!f.until.empty()) st.bind_text(5, f.until);
    std::vector<RunRecord> runs;
    while (st.step()) runs.push_back(read_run(st));
    return runs;
}

// ---- RunStore -----------------------------------------------------------------------------------

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
            spdlog::warn("results database '{}': WAL journal mode unavailable (got '{}'); readers may wait for "
                         "writers", path, mode);
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

// ---- writers ------------------------------------------------------------------------------------

int64_t RunStore::insert_experiment(const ExperimentStarted& e, const std::string& created_at,
                                    const std::string& uuid) {
    std::lock_guard lock(impl_->mutex);
    if (!uuid.empty()) {
        if (!is_uuid(uuid))
            throw std::invalid_argument("results database '" + path() + "': experiment UUID '" + uuid +
                                        "' is not a UUID (8-4-4-4-12 hex digits)");
        Statement& find = impl_->prepared("SELECT id FROM experiments WHERE uuid = ?");
        ResetOnExit guard{find};
        find.bind_text(1, uuid);
        if (find.step()) return find.column_int64(0);
    }
    Statement& st = impl_->prepared(
        "INSERT INTO experiments(name, config_json, config_hash, created_at, uuid) VALUES(?, ?, ?, ?, ?)");
    st.bind_text(1, e.name).bind_text(2, e.config_json).bind_text(3, e.config_hash);
    st.bind_text(4, created_at.empty() ? now_iso8601() : created_at);
    st.bind_text(5, uuid.empty() ? new_uuid() : uuid);
    st.execute();
    return impl_->db.last_insert_rowid();
}

RunRecord run_record_from(const RunStarted& s) {
    RunRecord r;
    r.run_index = s.run_index;
    r.seed = s.seed;
    r.method = s.method;
    r.config_json = s.config_json;
    r.config_hash = s.config_hash;
    r.torch_version = s.torch_version;
    r.device = s.device;
    r.status = RunStatus::running;
    r.num_tasks = s.num_tasks;
    r.total_steps = s.total_steps;
    r.variant = s.variant;
    r.variant_index = s.variant_index;
    r.sweep_field = s.sweep_field;
    r.sweep_value = s.sweep_value;
    return r;
}

int64_t RunStore::insert_run(int64_t experiment_id, const RunStarted& s) {
    RunRecord r = run_record_from(s);
    r.experiment_id = experiment_id;
    r.lorica_version = LORICA_VERSION;
    r.host = host_name();
    r.pid = static_cast<int64_t>(::getpid());
    r.started_at = now_iso8601();
    return insert_run(r);
}

int64_t RunStore::insert_run(const RunRecord& r) {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "INSERT INTO runs(experiment_id, run_index, seed, method, config_json, config_hash, lorica_version, "
        "torch_version, device, host, pid, started_at, ended_at, status, message, num_tasks, total_steps, notes, "
        "seconds, variant, variant_index, sweep_field, sweep_value, uuid) "
        "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (r.experiment_id > 0) st.bind_int64(1, r.experiment_id);
    else st.bind_null(1);
    st.bind_int64(2, r.run_index).bind_int64(3, r.seed).bind_text(4, r.method).bind_text(5, r.config_json);
    st.bind_text(6, r.config_hash).bind_text(7, r.lorica_version).bind_text(8, r.torch_version);
    st.bind_text(9, r.device).bind_text(10, r.host).bind_int64(11, r.pid);
    st.bind_text(12, r.started_at.empty() ? now_iso8601() : r.started_at);
    if (r.ended_at.empty()) st.bind_null(13);
    else st.bind_text(13, r.ended_at);
    st.bind_text(14, to_string(r.status)).bind_text(15, r.message).bind_int64(16, r.num_tasks);
    st.bind_int64(17, r.total_steps).bind_text(18, r.notes);
    if (r.status == RunStatus::running && r.seconds == 0.0) st.bind_null(19);
    else st.bind_double(19, r.seconds);
    st.bind_text(20, r.variant).bind_int64(21, r.variant_index).bind_text(22, r.sweep_field);
    st.bind_text(23, r.sweep_value);
    if (!r.uuid.empty() && !is_uuid(r.uuid))
        throw std::invalid_argument("results database '" + impl_->db.path() + "': run UUID '" + r.uuid +
                                    "' is not a UUID (8-4-4-4-12 hex digits)");
    st.bind_text(24, r.uuid.empty() ? new_uuid() : r.uuid);
    st.execute();
    return impl_->db.last_insert_rowid();
}

void RunStore::insert_tasks(int64_t run_id, const StreamDescribed& stream) {
    std::lock_guard lock(impl_->mutex);
    Transaction tx(impl_->db);
    Statement& st = impl_->prepared(
        "INSERT INTO tasks(run_id, task_index, name, classes_json, domain, train_samples, test_samples) "
        "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(run_id, task_index) DO UPDATE SET name = excluded.name, "
        "classes_json = excluded.classes_json, domain = excluded.domain, train_samples = excluded.train_samples, "
        "test_samples = excluded.test_samples");
    auto put = [&](const TaskInfo& t, int index) {
        st.bind_int64(1, run_id).bind_int64(2, index).bind_text(3, t.name).bind_text(4, classes_to_json(t.classes));
        st.bind_text(5, t.domain).bind_int64(6, t.train_samples).bind_int64(7, t.test_samples);
        st.execute();
    };
    if (!stream.foundation.classes.empty()) put(stream.foundation, kFoundationTask);
    for (const auto& t : stream.tasks) put(t, t.task);
    tx.commit();
}

void RunStore::append(int64_t run_id, const RunBatch& batch) {
    if (batch.empty()) return;
    std::lock_guard lock(impl_->mutex);
    Transaction tx(impl_->db);
    impl_->write_batch(run_id, batch);
    tx.commit();
}

void RunStore::insert_step_metrics(int64_t run_id, const std::vector<StepMetrics>& steps) {
    RunBatch b;
    b.steps = steps;
    append(run_id, b);
}

void RunStore::insert_evaluation(int64_t run_id, const EvaluationDone& evaluation) {
    RunBatch b;
    b.eval_rows = evaluation.rows;
    b.class_rows = evaluation.class_rows;
    append(run_id, b);
}

void RunStore::insert_method_state(int64_t run_id, const MethodState& state) {
    RunBatch b;
    b.method_states.push_back(state);
    append(run_id, b);
}

void RunStore::insert_analysis_points(int64_t run_id, const std::vector<AnalysisPoint>& points) {
    RunBatch b;
    b.analysis_points = points;
    append(run_id, b);
}

void RunStore::insert_artifact(int64_t run_id, const ArtifactWritten& artifact) {
    RunBatch b;
    b.artifacts.push_back(artifact);
    append(run_id, b);
}

void RunStore::finish_run(int64_t run_id, RunStatus status, const std::string& message, double seconds,
                          const std::string& ended_at) {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared("UPDATE runs SET status = ?, message = ?, seconds = ?, ended_at = ? WHERE id = ?");
    st.bind_text(1, to_string(status)).bind_text(2, message).bind_double(3, seconds);
    st.bind_text(4, ended_at.empty() ? now_iso8601() : ended_at).bind_int64(5, run_id);
    st.execute();
    if (impl_->db.changes() == 0)
        throw std::runtime_error("results database '" + path() + "': no run with id " + std::to_string(run_id));
}

void RunStore::set_run_notes(int64_t run_id, const std::string& notes) {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared("UPDATE runs SET notes = ? WHERE id = ?");
    st.bind_text(1, notes).bind_int64(2, run_id);
    st.execute();
    if (impl_->db.changes() == 0)
        throw std::runtime_error("results database '" + path() + "': no run with id " + std::to_string(run_id));
}

int RunStore::mark_interrupted_runs() {
    std::lock_guard lock(impl_->mutex);
    const std::string host = host_name();
    std::vector<std::pair<int64_t, int64_t>> dead;  // (run id, pid)
    {
        Statement& st = impl_->prepared("SELECT id, host, pid FROM runs WHERE status = 'running'");
        ResetOnExit guard{st};
        while (st.step()) {
            const int64_t pid = st.column_int64(2);
            if (st.column_text(1) != host || pid <= 0 || pid > INT_MAX) continue;
            if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) dead.emplace_back(st.column_int64(0), pid);
        }
    }
    if (dead.empty()) return 0;
    Transaction tx(impl_->db);
    Statement& st = impl_->prepared(
        "UPDATE runs SET status = 'interrupted', ended_at = ?, "
        "message = CASE WHEN message = '' THEN ? ELSE message END WHERE id = ? AND status = 'running'");
    const std::string now = now_iso8601();
    for (const auto& [id, pid] : dead) {
        st.bind_text(1, now);
        st.bind_text(2, "process " + std::to_string(pid) + " on " + host + " ended before the run finished");
        st.bind_int64(3, id);
        st.execute();
    }
    tx.commit();
    return static_cast<int>(dead.size());
}

// ---- readers ------------------------------------------------------------------------------------

std::vector<ExperimentRecord> RunStore::list_experiments() const {
    std::lock_guard lock(impl_->mutex);
    Statement& st =
        impl_->prepared("SELECT id, name, config_json, config_hash, created_at, uuid FROM experiments ORDER BY id");
    ResetOnExit guard{st};
    std::vector<ExperimentRecord> out;
    while (st.step()) out.push_back(read_experiment(st));
    return out;
}

std::optional<ExperimentRecord> RunStore::experiment(int64_t id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st =
        impl_->prepared("SELECT id, name, config_json, config_hash, created_at, uuid FROM experiments WHERE id = ?");
    ResetOnExit guard{st};
    st.bind_int64(1, id);
    if (!st.step()) return std::nullopt;
    return read_experiment(st);
}

std::optional<ExperimentRecord> RunStore::experiment_by_uuid(const std::string& uuid) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT id, name, config_json, config_hash, created_at, uuid FROM experiments WHERE uuid = ?");
    ResetOnExit guard{st};
    st.bind_text(1, uuid);
    if (!st.step()) return std::nullopt;
    return read_experiment(st);
}

std::vector<RunRecord> RunStore::list_runs(const RunFilter& filter) const {
    std::lock_guard lock(impl_->mutex);
    return impl_->query_runs(filter);
}

std::optional<RunRecord> RunStore::run(int64_t id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?");
    ResetOnExit guard{st};
    st.bind_int64(1, id);
    if (!st.step()) return std::nullopt;
    return read_run(st);
}

std::optional<RunRecord> RunStore::run_by_uuid(const std::string& uuid) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(std::string("SELECT ") + kRunColumns + " FROM runs WHERE uuid = ?");
    ResetOnExit guard{st};
    st.bind_text(1, uuid);
    if (!st.step()) return std::nullopt;
    return read_run(st);
}

std::vector<RunRecord> RunStore::runs_of_experiment(int64_t experiment_id) const {
    RunFilter f;
    f.experiment_id = experiment_id;
    return list_runs(f);
}

std::vector<TaskRecord> RunStore::tasks(int64_t run_id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT task_index, name, classes_json, domain, train_samples, test_samples, planned_steps, "
        "trainable_parameters, seconds FROM tasks WHERE run_id = ? ORDER BY task_index");
    ResetOnExit guard{st};
    st.bind_int64(1, run_id);
    std::vector<TaskRecord> out;
    while (st.step()) {
        TaskRecord t;
        t.run_id = run_id;
        t.info.task = static_cast<int>(st.column_int64(0));
        t.info.name = st.column_text(1);
        t.info.classes = classes_from_json(st.column_text(2), impl_->db.path());
        t.info.domain = st.column_text(3);
        t.info.train_samples = st.column_int64(4);
        t.info.test_samples = st.column_int64(5);
        t.planned_steps = st.column_int64(6);
        t.trainable_parameters = st.column_int64(7);
        t.seconds = st.column_double(8);
        out.push_back(std::move(t));
    }
    return out;
}

std::vector<StepMetrics> RunStore::step_metrics(int64_t run_id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT task_index, epoch, step, step_in_task, loss, lr, step_ms FROM step_metrics WHERE run_id = ? "
        "ORDER BY rowid");
    ResetOnExit guard{st};
    st.bind_int64(1, run_id);
    std::vector<StepMetrics> out;
    while (st.step()) {
        StepMetrics s;
        s.task = static_cast<int>(st.column_int64(0));
        s.epoch = static_cast<int>(st.column_int64(1));
        s.step = st.column_int64(2);
        s.step_in_task = st.column_int64(3);
        s.loss = real_or_nan(st, 4);
        s.lr = real_or_nan(st, 5);
        s.step_ms = real_or_nan(st, 6);
        out.push_back(s);
    }
    return out;
}

std::vector<EvalRecord> RunStore::eval_rows(int64_t run_id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT after_task, eval_task, step, phase, head_mode, correct, total FROM eval_rows WHERE run_id = ? "
        "ORDER BY rowid");
    ResetOnExit guard{st};
    st.bind_int64(1, run_id);
    std::vector<EvalRecord> out;
    while (st.step()) {
        EvalRecord r;
        r.run_id = run_id;
        r.row.after_task = static_cast<int>(st.column_int64(0));
        r.row.eval_task = static_cast<int>(st.column_int64(1));
        r.row.step = st.column_int64(2);
        r.row.phase = eval_phase_from_string(st.column_text(3));
        r.row.head_mode = head_mode_from_string(st.column_text(4));
        r.row.correct = st.column_int64(5);
        r.row.total = st.column_int64(6);
        out.push_back(r);
    }
    return out;
}

std::vector<ClassEvalRecord> RunStore::class_eval_rows(int64_t run_id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT after_task, eval_task, class_id, correct, total, newly_wrong FROM class_eval_rows WHERE run_id = ? "
        "ORDER BY rowid");
    ResetOnExit guard{st};
    st.bind_int64(1, run_id);
    std::vector<ClassEvalRecord> out;
    while (st.step()) {
        ClassEvalRecord r;
        r.run_id = run_id;
        r.row.after_task = static_cast<int>(st.column_int64(0));
        r.row.eval_task = static_cast<int>(st.column_int64(1));
        r.row.class_id = static_cast<int>(st.column_int64(2));
        r.row.correct = st.column_int64(3);
        r.row.total = st.column_int64(4);
        r.row.newly_wrong = st.column_is_null(5) ? -1 : st.column_int64(5);
        out.push_back(r);
    }
    return out;
}

std::vector<MethodState> RunStore::method_state(int64_t run_id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT task_index, step, key, idx, value FROM method_state WHERE run_id = ? ORDER BY rowid");
    ResetOnExit guard{st};
    st.bind_int64(1, run_id);
    std::vector<MethodState> out;
    while (st.step()) {
        const int task = static_cast<int>(st.column_int64(0));
        const int64_t step = st.column_int64(1);
        // A key this build does not know (a newer or foreign database) is skipped, not misread.
        const std::optional<StateKey> parsed = parse_state_key(st.column_text(2));
        if (!parsed) continue;
        const StateKey key = *parsed;
        const int64_t idx = st.column_int64(3);
        // A new vector starts at idx 0 (or the empty-vector marker -1), or when (task, step, key) changes.
        const bool continues = !out.empty() && idx > 0 && out.back().task == task && out.back().step == step &&
                               out.back().key == key && static_cast<int64_t>(out.back().values.size()) == idx;
        if (!continues) {
            MethodState m;
            m.task = task;
            m.step = step;
            m.key = key;
            out.push_back(std::move(m));
        }
        if (idx >= 0) out.back().values.push_back(real_or_nan(st, 4));
    }
    return out;
}

std::vector<AnalysisPoint> RunStore::analysis_points(int64_t run_id, std::optional<AnalysisKey> analysis) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT analysis, series, x, y FROM analysis_points WHERE run_id = ?1 AND (?2 IS NULL OR analysis = ?2) "
        "ORDER BY rowid");
    ResetOnExit guard{st};
    st.bind_int64(1, run_id);
    if (analysis) st.bind_text(2, name_of(*analysis));
    std::vector<AnalysisPoint> out;
    while (st.step()) {
        const std::optional<AnalysisKey> key = parse_analysis_key(st.column_text(0));
        const std::optional<SeriesKey> series = parse_series_key(st.column_text(1));
        if (!key || !series) continue;  // written by a newer build or another tool: skipped, not misread
        AnalysisPoint p;
        p.analysis = *key;
        p.series = *series;
        p.x = real_or_nan(st, 2);
        p.y = real_or_nan(st, 3);
        out.push_back(std::move(p));
    }
    return out;
}

std::vector<ArtifactRecord> RunStore::artifacts(int64_t run_id) const {
    std::lock_guard lock(impl_->mutex);
    Statement& st = impl_->prepared(
        "SELECT kind, path, meta_json, created_at FROM artifacts WHERE run_id = ? ORDER BY rowid");
    ResetOnExit guard{st};
    st.bind_int64(1, run_id);
    std::vector<ArtifactRecord> out;
    while (st.step()) {
        ArtifactRecord a;
        a.run_id = run_id;
        a.kind = st.column_text(0);
        a.path = st.column_text(1);
        a.meta_json = st.column_text(2);
        a.created_at = st.column_text(3);
        out.push_back(std::move(a));
    }
    return out;
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
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    return buf;
}

std::string RunStore::host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return {};
    return buf;
}

}  // namespace lorica
