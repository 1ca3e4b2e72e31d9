#include "app/adapter_export.h"

#include <filesystem>
#include <stdexcept>

#include "engine/io/run_export.h"

namespace lorica::app {

bool export_available() { return true; }

std::string export_unavailable_reason() { return ""; }

std::string export_adapters(const RunStore& store, const AdapterExportRequest& request) {
    std::string written;
    auto add = [&](const RunExportResult& r, const std::string& dir) {
        written += dir + (r.has_adapter ? "" : "  (no adapter terms: base weights only)") + "\n";
    };
    if (!request.per_task) {
        add(export_run(store, RunExportOptions{request.run_id, request.output_dir, -1, false, ""}), request.output_dir);
        return written;
    }
    const std::vector<int> tasks = exportable_tasks(store, request.run_id);
    if (tasks.empty())
        throw std::runtime_error("run " + std::to_string(request.run_id) +
                                 " has no stored checkpoint (checkpoints are written at the end of every task)");
    for (int t : tasks) {
        const std::string dir = (std::filesystem::path(request.output_dir) / ("task" + std::to_string(t))).string();
        try {
            add(export_run(store, RunExportOptions{request.run_id, dir, t, true, ""}), dir);
        } catch (const NoPerTaskTermsError&) {
            // The method's adapter belongs to no single task (sequential LoRA, LoRI continual): the
            // folder holds the adapter as it stood after task t, and the listing says so.
            export_run(store, RunExportOptions{request.run_id, dir, t, false, ""});
            written += dir + "  (no per-task terms: the adapter after this task)\n";
        }
    }
    return written;
}

}  // namespace lorica::app
