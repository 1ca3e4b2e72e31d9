// run_record_from: a RunRecord from a RunStarted event (run_records.h).

#include "engine/store/run_records.h"

namespace lorica {

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
    r.facts = s.facts;
    return r;
}

}  // namespace lorica
