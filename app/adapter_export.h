#pragma once
// The GUI's entry point to adapter-file export (PEFT layout, /work/shared/methods.md "Adapter files").
//
// The engine's exporter is not part of this build yet: `export_available()` says whether it is, and
// the "Export adapters…" action stays disabled (with a tooltip saying why) while it is false.
// Wiring the exporter in means implementing these two functions in adapter_export.cpp.

#include <cstdint>
#include <string>

namespace lorica {
class RunStore;
}

namespace lorica::app {

// What to export.
struct AdapterExportRequest {
    int64_t run_id = 0;
    std::string output_dir;   // a folder; created when missing
    bool per_task = true;     // true: one adapter folder per task; false: one cumulative adapter
};

// True when the engine can write adapter files.
bool export_available();
// Why export is unavailable (for the action's tooltip); "" when available.
std::string export_unavailable_reason();
// Writes the adapter files; returns the paths written, one per line. Throws std::runtime_error with a
// clear message (no run, no stored adapters, folder not writable, export not available).
std::string export_adapters(const RunStore& store, const AdapterExportRequest& request);

}  // namespace lorica::app
