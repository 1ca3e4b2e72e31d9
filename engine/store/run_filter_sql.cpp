#include "engine/store/run_filter_sql.h"

namespace lorica {

void bind_run_filter(Statement& st, const RunFilter& f) {
    if (!f.method_contains.empty()) st.bind_text(1, f.method_contains);
    if (f.status) st.bind_text(2, to_string(*f.status));
    if (f.experiment_id) st.bind_int64(3, *f.experiment_id);
    if (!f.since.empty()) st.bind_text(4, f.since);
    if (!f.until.empty()) st.bind_text(5, f.until);
}

}  // namespace lorica
