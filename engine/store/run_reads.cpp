// RunStore's readers of experiment and run records (run_store.h): all of them, one by id or UUID,
// and the runs matching a RunFilter, ordered by id. Paged listing with final accuracy:
// run_listing.cpp; a run's own rows: run_row_reads.cpp.

#include <optional>
#include <string>
#include <vector>

#include "engine/store/run_facts_json.h"
#include "engine/store/run_filter_sql.h"
#include "engine/store/run_store.h"
#include "engine/store/run_store_impl.h"

namespace lorica {

namespace {

constexpr const char* kRunColumns =
    "id, experiment_id, run_index, seed, method, config_json, config_hash, lorica_version, torch_version, device, "
    "host, pid, started_at, ended_at, status, message, num_tasks, total_steps, notes, seconds, variant, variant_index, "
    "sweep_field, sweep_value, uuid, facts_json";

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
    r.facts = parse_run_facts_json(st.column_text(25));
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

constexpr const char* kExperimentColumns = "id, name, config_json, config_hash, created_at, uuid";

}  // namespace

std::vector<ExperimentRecord> RunStore::list_experiments() const {
    std::vector<ExperimentRecord> out;
    impl_->for_each_row(std::string("SELECT ") + kExperimentColumns + " FROM experiments ORDER BY id",
                        bind_no_parameters, [&](const Statement& st) { out.push_back(read_experiment(st)); });
    return out;
}

std::optional<ExperimentRecord> RunStore::experiment(int64_t id) const {
    std::optional<ExperimentRecord> out;
    impl_->first_row(std::string("SELECT ") + kExperimentColumns + " FROM experiments WHERE id = ?",
                     bind_first_parameter(id), [&](const Statement& st) { out = read_experiment(st); });
    return out;
}

std::optional<ExperimentRecord> RunStore::experiment_by_uuid(const std::string& uuid) const {
    std::optional<ExperimentRecord> out;
    impl_->first_row(std::string("SELECT ") + kExperimentColumns + " FROM experiments WHERE uuid = ?",
                     bind_first_parameter(uuid), [&](const Statement& st) { out = read_experiment(st); });
    return out;
}

std::vector<RunRecord> RunStore::list_runs(const RunFilter& filter) const {
    // One statement shape for every filter (run_filter_sql.h), so it is prepared once.
    std::vector<RunRecord> runs;
    impl_->for_each_row(
        std::string("SELECT ") + kRunColumns + " FROM runs WHERE " + kRunFilterCondition + " ORDER BY id",
        [&](Statement& st) { bind_run_filter(st, filter); },
        [&](const Statement& st) { runs.push_back(read_run(st)); });
    return runs;
}

std::optional<RunRecord> RunStore::run(int64_t id) const {
    std::optional<RunRecord> out;
    impl_->first_row(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?", bind_first_parameter(id),
                     [&](const Statement& st) { out = read_run(st); });
    return out;
}

std::optional<RunRecord> RunStore::run_by_uuid(const std::string& uuid) const {
    std::optional<RunRecord> out;
    impl_->first_row(std::string("SELECT ") + kRunColumns + " FROM runs WHERE uuid = ?", bind_first_parameter(uuid),
                     [&](const Statement& st) { out = read_run(st); });
    return out;
}

std::vector<RunRecord> RunStore::runs_of_experiment(int64_t experiment_id) const {
    RunFilter f;
    f.experiment_id = experiment_id;
    return list_runs(f);
}

}  // namespace lorica
