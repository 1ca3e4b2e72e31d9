#include "app/adapter_export.h"

#include <stdexcept>

namespace lorica::app {

bool export_available() { return false; }

std::string export_unavailable_reason() {
    return "Adapter export (PEFT adapter_config.json + adapter_model.safetensors) is not in this build yet.";
}

std::string export_adapters(const RunStore&, const AdapterExportRequest& request) {
    throw std::runtime_error("cannot export the adapters of run " + std::to_string(request.run_id) + ": " +
                             export_unavailable_reason());
}

}  // namespace lorica::app
