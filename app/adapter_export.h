#pragma once
// The GUI's entry point to adapter-file export (PEFT layout, /work/shared/methods.md "Adapter files").
//
// Calls the engine's run exporter (engine/io/run_export.h), the same code as `lorica-cli export`.
// `export_available()` keeps the "Export adapters…" action disabled, with the reason as its tooltip,
// in a build without the exporter.

#include <cstdint>
#include <string>

namespace lorica {
class RunStore;
}

namespace lorica::app {

// What to export.
struct AdapterExportRequest {
    int64_t run_id = 0;
    std::string output_dir;  // a folder; created when missing
    bool per_task = true;    // true: one folder per task with exactly that task's terms (for a method
                             // without per-task terms: the adapter after that task, noted in the
                             // listing); false: one cumulative adapter
};

// True when the engine can write adapter files.
bool export_available();
// Why export is unavailable (for the action's tooltip); "" when available.
std::string export_unavailable_reason();
// Writes the adapter files; returns the paths written, one per line. Throws std::runtime_error with a
// clear message (no run, no stored adapters, folder not writable, export not available).
std::string export_adapters(const RunStore& store, const AdapterExportRequest& request);

}  // namespace lorica::app
