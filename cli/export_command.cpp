#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/io_commands.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/timm_weights.h"
#include "engine/store/run_store.h"

namespace lorica::cli {
namespace fs = std::filesystem;

int command_export(const ExportRequest& request) {
    RunStore store = RunStore::open(request.db_path);
    auto run = store.run(request.run_id);
    if (!run) {
        std::fprintf(stderr, "error: no run %lld in %s (see `lorica-cli runs`)\n", static_cast<long long>(request.run_id),
                     request.db_path.c_str());
        return 2;
    }
    std::string dir;
    int task = -1;
    std::vector<int> available;
    for (const auto& a : store.artifacts(request.run_id)) {
        if (a.kind != kArtifactRunCheckpoint) continue;
        const int t = nlohmann::json::parse(a.meta_json).at("task").get<int>();
        available.push_back(t);
        if ((request.task < 0 && t >= task) || t == request.task) {
            task = t;
            dir = a.path;
        }
    }
    if (dir.empty()) {
        std::string list;
        for (int t : available) list += (list.empty() ? "" : ", ") + std::to_string(t);
        std::fprintf(stderr, "error: run %lld has %s (run checkpoints are written at the end of every task)\n",
                     static_cast<long long>(request.run_id),
                     available.empty() ? "no checkpoint" : ("no checkpoint for task " + std::to_string(request.task) +
                                                            " (tasks: " + list + ")").c_str());
        return 2;
    }
    TaskCheckpoint cp = read_task_checkpoint(dir);
    AdapterSet set = request.only_task ? cp.adapters.tasks_between(task, task) : cp.adapters;
    VisionTransformer base = set.base == "foundation" ? cp.foundation : cp.model;

    fs::create_directories(request.out_dir);
    const fs::path out(request.out_dir);
    save_timm_weights((out / "base_model.safetensors").string(), base, cp.head_weight, cp.head_bias);
    const auto& o = base->options;
    std::string base_name = request.base_model_name;
    if (base_name.empty())
        base_name = "lorica/vit-d" + std::to_string(o.dim()) + "-p" + std::to_string(o.patch_size()) + "-" + std::to_string(o.image_size());
    if (!set.empty()) {
        export_peft_adapter(request.out_dir, set, PeftExportOptions{base_name, true});
    } else {
        std::printf("note: method %s has no adapter terms after task %d: only the base weights are exported\n",
                    cp.info.value("method", std::string("?")).c_str(), task);
    }
    nlohmann::json info = {
        {"run", request.run_id},
        {"task", task},
        {"only_task", request.only_task},
        {"method", cp.info.value("method", std::string())},
        {"config_hash", cp.info.value("config_hash", std::string())},
        {"checkpoint", dir},
        {"adapter_base", set.base},
        {"timm", {{"img_size", o.image_size()}, {"patch_size", o.patch_size()}, {"in_chans", o.in_channels()},
                  {"embed_dim", o.dim()}, {"depth", o.depth()}, {"num_heads", o.heads()}, {"mlp_ratio", o.mlp_ratio()},
                  {"num_classes", cp.head_weight.defined() ? cp.head_weight.size(0) : 0}, {"class_token", true},
                  {"global_pool", "token"}}},
    };
    std::ofstream(out / "lorica_export.json") << info.dump(2) << "\n";
    std::printf("run %lld, after task %d%s: exported to %s\n", static_cast<long long>(request.run_id), task,
                request.only_task ? " (that task's terms only)" : "", request.out_dir.c_str());
    if (!set.empty()) std::printf("%s", describe_adapter_directory(request.out_dir).c_str());
    return 0;
}

}  // namespace lorica::cli
