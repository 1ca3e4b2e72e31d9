// RunStore::mark_interrupted_runs: crash recovery on open (run_store.h). A run left "running" by a
// writer that died is marked "interrupted" (ended_at = now, a message naming the process when it had
// none) when it was written on this host by a pid that no longer exists (kill(pid, 0) fails with
// ESRCH). Runs of other hosts, and of live or unknown processes, are left alone.

#include <cerrno>
#include <climits>
#include <mutex>
#include <signal.h>
#include <string>
#include <sys/types.h>
#include <utility>
#include <vector>

#include "engine/store/run_store.h"
#include "engine/store/run_store_impl.h"

namespace lorica {

int RunStore::mark_interrupted_runs() {
    std::lock_guard lock(impl_->mutex);
    const std::string host = host_name();
    std::vector<std::pair<int64_t, int64_t>> dead;  // (run id, pid)
    impl_->for_each_row_locked("SELECT id, host, pid FROM runs WHERE status = 'running'", bind_no_parameters,
                               [&](const Statement& st) {
                                   const int64_t pid = st.column_int64(2);
                                   if (st.column_text(1) != host || pid <= 0 || pid > INT_MAX) return;
                                   if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH)
                                       dead.emplace_back(st.column_int64(0), pid);
                               });
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

}  // namespace lorica
