// RunStore's readers of experiment and run records (run_store.h): all of them, one by id or UUID,
// and the runs matching a RunFilter, ordered by id. Paged listing with final accuracy:
// run_listing.cpp; a run's own rows: run_row_reads.cpp.

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/store/run_store_impl.h"

namespace lorica {

namespace {

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

}  // namespace

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
    Statement& st =
        impl_->prepared("SELECT id, name, config_json, config_hash, created_at, uuid FROM experiments WHERE uuid = ?");
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

}  // namespace lorica
