#include <cstdio>

#include "cli/io_commands.h"
#include "engine/io/run_export.h"
#include "engine/store/run_store.h"

namespace lorica::cli {

int command_export(const ExportRequest& request) {
    RunStore store = RunStore::open(request.db_path);
    RunExportResult r;
    try {
        r = export_run(store, RunExportOptions{request.run_id, request.out_dir, request.task, request.only_task,
                                               request.base_model_name});
    } catch (const RunExportError& e) {
        std::fprintf(stderr, "error: %s (%s; see `lorica-cli runs`)\n", e.what(), request.db_path.c_str());
        return 2;
    }
    if (!r.has_adapter)
        std::printf("note: method %s has no adapter terms after task %d: only the base weights are exported\n",
                    r.method.c_str(), r.task);
    std::printf("run %lld, after task %d%s: exported to %s\n", static_cast<long long>(request.run_id), r.task,
                request.only_task ? " (that task's terms only)" : "", request.out_dir.c_str());
    std::printf("%s", r.summary.c_str());
    return 0;
}

}  // namespace lorica::cli
