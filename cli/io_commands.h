#pragma once
// lorica-cli commands on files: `inspect` (safetensors files, adapter and checkpoint directories)
// and `export` (a stored run's checkpoint as a PEFT adapter directory with timm base weights).

#include <cstdint>
#include <string>

namespace lorica::cli {

// Prints a safetensors file's tensors (name, dtype, shape) and metadata, a PEFT adapter directory's
// summary, or a task checkpoint directory's summary. Returns 0; throws on a malformed file (the
// caller prints the error and exits with 2).
int command_inspect(const std::string& path);

struct ExportRequest {
    std::string db_path;
    int64_t run_id = 0;
    std::string out_dir;
    int task = -1;                // checkpoint after this task (-1 = the run's last checkpoint)
    bool only_task = false;       // export only the terms created by `task` (default: every term up to it)
    std::string base_model_name;  // base_model_name_or_path ("" = derived from the backbone preset)
};

// Writes <out_dir>/{adapter_config.json, adapter_model.safetensors, lorica_adapter.safetensors,
// base_model.safetensors (timm names; head = the stream heads up to the task, class-IL order),
// lorica_export.json (timm VisionTransformer arguments, run, task, method)}. Returns 0, or 2 when the
// run or its checkpoint is missing (message on stderr).
int command_export(const ExportRequest& request);

}  // namespace lorica::cli
