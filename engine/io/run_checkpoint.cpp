#include "engine/io/run_checkpoint.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <torch/torch.h>

#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"
#include "engine/io/timm_weights.h"
#include "engine/model/backbone_factory.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

bool same_backbone(Backbone a, Backbone b) {
    auto pa = a->named_parameters(), pb = b->named_parameters();
    if (pa.size() != pb.size()) return false;
    for (const auto& item : pa) {
        const torch::Tensor* other = pb.find(item.key());
        if (!other || !torch::equal(item.value().detach().cpu(), other->detach().cpu())) return false;
    }
    return true;
}

// The backbone description a checkpoint file carries: "lorica.backbone" (any family), or "lorica.vit"
// in files written before ResNets (a ViT's options, no family).
nlohmann::json backbone_description_of(const SafetensorsFile& file, const std::string& path) {
    const auto& meta = file.metadata();
    if (auto it = meta.find("lorica.backbone"); it != meta.end()) return nlohmann::json::parse(it->second);
    if (auto it = meta.find("lorica.vit"); it != meta.end()) return nlohmann::json::parse(it->second);
    throw std::runtime_error(path + ": no lorica.backbone metadata (not a Lorica checkpoint backbone)");
}

Backbone load_backbone(const fs::path& path, const nlohmann::json& description) {
    Backbone model = backbone_from_description(description);
    load_timm_weights(model, path.string(), TimmLoadOptions{/*interpolate_pos_embed*/ false, /*load_head*/ true});
    return model;
}

}  // namespace

std::string make_run_checkpoint_dir(const std::string& cache_dir, const std::string& config_hash, int64_t seed) {
    const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &utc);
    return (fs::path(cache_dir) / "runs" /
            (config_hash + "-seed" + std::to_string(seed) + "-" + stamp + "-" + std::to_string(::getpid())))
        .string();
}

void write_foundation_backbone(const std::string& run_dir, Backbone model) {
    fs::create_directories(run_dir);
    save_timm_weights((fs::path(run_dir) / kFoundationBackboneFile).string(), model);
}

ArtifactWritten write_task_checkpoint(const std::string& run_dir, const TaskCheckpointInfo& info, Backbone model,
                                      TaskHeads& heads, const AdapterSet& adapters) {
    const fs::path dir = fs::path(run_dir) / ("task_" + std::to_string(info.task));
    fs::create_directories(dir);
    std::string backbone = kFoundationBackboneFile;
    const fs::path foundation_path = fs::path(run_dir) / kFoundationBackboneFile;
    bool changed = true;
    if (fs::exists(foundation_path)) {
        Backbone foundation = backbone_from_description(
            backbone_description_of(SafetensorsFile::open(foundation_path.string()), foundation_path.string()));
        load_timm_weights(foundation, foundation_path.string());
        changed = !same_backbone(foundation, model);
    }
    if (changed) {
        backbone = "task_" + std::to_string(info.task) + "/backbone.safetensors";
        save_timm_weights((fs::path(run_dir) / backbone).string(), model);
    }
    std::vector<std::pair<std::string, torch::Tensor>> head_tensors;
    nlohmann::json head_classes = nlohmann::json::array();
    for (int h = 0; h < heads->size(); ++h) {
        head_tensors.emplace_back("heads." + std::to_string(h) + ".weight", heads->head(h)->weight);
        head_tensors.emplace_back("heads." + std::to_string(h) + ".bias", heads->head(h)->bias);
        head_classes.push_back(heads->classes(h));
    }
    save_tensors((dir / "heads.safetensors").string(), head_tensors);
    save_adapter_set((dir / "adapter_set.safetensors").string(), adapters);
    nlohmann::json meta = {{"format", 1},
                           {"task", info.task},
                           {"method", info.method},
                           {"config_hash", info.config_hash},
                           {"seed", info.seed},
                           {"backbone_description", model->description()},
                           {"head_classes", head_classes},
                           {"backbone", backbone},
                           {"foundation_backbone", fs::exists(foundation_path) ? nlohmann::json(kFoundationBackboneFile)
                                                                               : nlohmann::json(nullptr)},
                           {"adapter_terms", adapters.terms.size()}};
    {
        std::ofstream out(dir / "checkpoint.json");
        out << meta.dump(2) << "\n";
        if (!out) throw std::runtime_error((dir / "checkpoint.json").string() + ": write failed");
    }
    return ArtifactWritten{kArtifactRunCheckpoint, dir.string(),
                           nlohmann::json{{"task", info.task}, {"run_dir", run_dir}}.dump()};
}

TaskCheckpoint read_task_checkpoint(const std::string& task_dir) {
    const fs::path dir(task_dir);
    const fs::path json_path = dir / "checkpoint.json";
    std::ifstream in(json_path);
    if (!in) throw std::runtime_error(json_path.string() + ": cannot open (not a Lorica task checkpoint directory)");
    TaskCheckpoint cp;
    cp.dir = task_dir;
    try {
        cp.info = nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw std::runtime_error(json_path.string() + ": invalid JSON: " + e.what());
    }
    const fs::path run_dir = dir.parent_path();
    try {
        // "backbone_description" (any family); checkpoints written before ResNets hold a ViT's "vit".
        const nlohmann::json& description =
            cp.info.contains("backbone_description") ? cp.info.at("backbone_description") : cp.info.at("vit");
        cp.model = load_backbone(run_dir / cp.info.at("backbone").get<std::string>(), description);
        const auto& fb = cp.info.at("foundation_backbone");
        if (fb.is_string() && fb.get<std::string>() != cp.info.at("backbone").get<std::string>())
            cp.foundation = load_backbone(run_dir / fb.get<std::string>(), description);
        else
            cp.foundation = cp.model;
        SafetensorsFile heads = SafetensorsFile::open((dir / "heads.safetensors").string());
        std::vector<torch::Tensor> w, b;
        const auto classes = cp.info.at("head_classes").get<std::vector<int64_t>>();
        for (size_t h = 0; h < classes.size(); ++h) {
            w.push_back(view_to_float_tensor(heads.tensor("heads." + std::to_string(h) + ".weight")));
            b.push_back(view_to_float_tensor(heads.tensor("heads." + std::to_string(h) + ".bias")));
        }
        if (!w.empty()) {
            cp.head_weight = torch::cat(w, 0);
            cp.head_bias = torch::cat(b, 0);
        }
        cp.adapters = load_adapter_set((dir / "adapter_set.safetensors").string());
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error(json_path.string() + ": " + e.what());
    }
    return cp;
}

}  // namespace lorica
