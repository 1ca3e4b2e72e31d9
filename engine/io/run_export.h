#pragma once
// Exporting a stored run: its checkpoint after a task → a PEFT adapter directory with timm base weights.
//
// The one entry point both front ends call (`lorica-cli export`, the GUI's "Export adapters…").
// Torch-free header: the GUI includes it without LibTorch's headers.
//
// Writes <out_dir>/{adapter_config.json, adapter_model.safetensors (PEFT keys), lorica_adapter.safetensors
// (Lorica's lossless sidecar: every term, shared magnitude, mask, task), base_model.safetensors (timm
// names; head = the stream heads up to the task, class-IL order), lorica_export.json (timm
// VisionTransformer arguments, run, task, method, config hash)}.

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace lorica {

class RunStore;

struct RunExportOptions {
    int64_t run_id = 0;
    std::string out_dir;
    int task = -1;                // the checkpoint after this task (-1 = the run's last checkpoint)
    bool only_task = false;       // exactly the terms created by `task` (default: every term up to it);
                                  // a method without per-task terms is a RunExportError
    std::string base_model_name;  // base_model_name_or_path ("" = derived from the backbone's shape)
};

struct RunExportResult {
    int task = -1;             // the task whose checkpoint was exported
    bool has_adapter = false;  // false: the method left no adapter terms (only base weights written)
    std::string method;
    std::string summary;  // human-readable listing of the adapter directory
};

// A run or checkpoint that is not there (message names the run and the tasks that exist).
class RunExportError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// `only_task` asked of a run whose method keeps no per-task terms (the message says which and why).
class NoPerTaskTermsError : public RunExportError {
public:
    using RunExportError::RunExportError;
};

// The tasks of `run_id` that have a stored checkpoint, ascending.
std::vector<int> exportable_tasks(const RunStore& store, int64_t run_id);

// Throws RunExportError (missing run/checkpoint), NoPerTaskTermsError (only_task without per-task terms;
// nothing written) or std::runtime_error (unreadable checkpoint, write failure).
RunExportResult export_run(const RunStore& store, const RunExportOptions& options);

}  // namespace lorica
