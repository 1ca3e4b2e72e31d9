#include "engine/io/run_export.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "engine/io/peft_adapter.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/timm_weights.h"
#include "engine/model/vit.h"
#include "engine/store/run_store.h"

namespace lorica {
namespace fs = std::filesystem;

namespace {

struct CheckpointArtifact {
    int task = -1;
    std::string dir;
};

std::vector<CheckpointArtifact> checkpoints_of(const RunStore& store, int64_t run_id) {
    std::vector<CheckpointArtifact> out;
    for (const auto& a : store.artifacts(run_id)) {
        if (a.kind != kArtifactRunCheckpoint) continue;
        out.push_back({nlohmann::json::parse(a.meta_json).at("task").get<int>(), a.path});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.task < b.task; });
    return out;
}

// The name written as PEFT's base_model_name_or_path when none is given.
std::string default_base_model_name(Backbone& base) {
    if (const auto* vit = base->as<VisionTransformerImpl>()) {
        const ViTOptions& o = vit->options;
        return "lorica/vit-d" + std::to_string(o.dim()) + "-p" + std::to_string(o.patch_size()) + "-" +
               std::to_string(o.image_size());
    }
    return "lorica/" + base->description().value("preset", std::string("backbone"));
}

// The keyword arguments that make timm build the same architecture (timm.create_model(name, **args)).
nlohmann::json timm_create_arguments(Backbone& base, int64_t num_classes) {
    if (const auto* vit = base->as<VisionTransformerImpl>()) {
        const ViTOptions& o = vit->options;
        return {{"img_size", o.image_size()}, {"patch_size", o.patch_size()}, {"in_chans", o.in_channels()},
                {"embed_dim", o.dim()},       {"depth", o.depth()},           {"num_heads", o.heads()},
                {"mlp_ratio", o.mlp_ratio()}, {"num_classes", num_classes},   {"class_token", true},
                {"global_pool", "token"}};
    }
    nlohmann::json args = base->description();
    args["num_classes"] = num_classes;
    return args;
}

}  // namespace

std::vector<int> exportable_tasks(const RunStore& store, int64_t run_id) {
    std::vector<int> tasks;
    for (const auto& c : checkpoints_of(store, run_id)) tasks.push_back(c.task);
    return tasks;
}

RunExportResult export_run(const RunStore& store, const RunExportOptions& options) {
    if (!store.run(options.run_id))
        throw RunExportError("no run " + std::to_string(options.run_id) + " in this database");
    const auto checkpoints = checkpoints_of(store, options.run_id);
    const CheckpointArtifact* chosen = nullptr;
    for (const auto& c : checkpoints)
        if (options.task < 0 || c.task == options.task) chosen = &c;  // ascending: -1 keeps the last
    if (!chosen) {
        std::string list;
        for (const auto& c : checkpoints) list += (list.empty() ? "" : ", ") + std::to_string(c.task);
        throw RunExportError("run " + std::to_string(options.run_id) + " has " +
                             (checkpoints.empty() ? std::string("no checkpoint")
                                                  : "no checkpoint for task " + std::to_string(options.task) +
                                                        " (tasks: " + list + ")") +
                             " (run checkpoints are written at the end of every task)");
    }
    const int task = chosen->task;
    TaskCheckpoint cp = read_task_checkpoint(chosen->dir);
    if (options.only_task && !cp.adapters.has_per_task_terms())
        throw NoPerTaskTermsError(
            "run " + std::to_string(options.run_id) + " (" + cp.info.value("method", std::string("?")) +
            ") has no per-task adapter terms at task " + std::to_string(task) +
            ": its adapter belongs to no single task (sequential LoRA's one pair, LoRI's continued "
            "adapter or a linear merge); export without --only-task");
    AdapterSet set = options.only_task ? cp.adapters.terms_of_task(task) : cp.adapters;
    Backbone base = set.base == "foundation" ? cp.foundation : cp.model;

    fs::create_directories(options.out_dir);
    const fs::path out(options.out_dir);
    save_timm_weights((out / "base_model.safetensors").string(), base, cp.head_weight, cp.head_bias);
    std::string base_name = options.base_model_name;
    if (base_name.empty()) base_name = default_base_model_name(base);
    RunExportResult result;
    result.task = task;
    result.method = cp.info.value("method", std::string());
    result.has_adapter = !set.empty();
    if (result.has_adapter) export_peft_adapter(options.out_dir, set, PeftExportOptions{base_name, true});
    nlohmann::json info = {
        {"run", options.run_id},
        {"task", task},
        {"only_task", options.only_task},
        {"method", result.method},
        {"config_hash", cp.info.value("config_hash", std::string())},
        {"checkpoint", chosen->dir},
        {"adapter_base", set.base},
        {"timm", timm_create_arguments(base, cp.head_weight.defined() ? cp.head_weight.size(0) : 0)},
    };
    std::ofstream info_file(out / "lorica_export.json");
    info_file << info.dump(2) << "\n";
    if (!info_file) throw std::runtime_error("cannot write " + (out / "lorica_export.json").string());
    if (result.has_adapter) result.summary = describe_adapter_directory(options.out_dir);
    return result;
}

}  // namespace lorica
