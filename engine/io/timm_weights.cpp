#include "engine/io/timm_weights.h"

#include <cmath>
#include <map>
#include <set>

#include <torch/torch.h>

#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"

namespace lorica {
namespace {

std::string join(const std::vector<std::string>& names, size_t limit = 12) {
    std::string out;
    for (size_t i = 0; i < names.size() && i < limit; ++i) out += (i ? ", " : "") + names[i];
    if (names.size() > limit) out += ", ... (" + std::to_string(names.size()) + " in all)";
    return out;
}

ViTOptions infer_from_file(const SafetensorsFile& file) {
    for (const char* key : {"cls_token", "pos_embed", "patch_embed.proj.weight"})
        if (!file.contains(key))
            throw WeightsError(file.path() + ": no tensor \"" + key + "\": not a timm ViT weights file");
    const auto& proj = file.tensor("patch_embed.proj.weight").shape;  // [dim, C, p, p]
    const auto& pos = file.tensor("pos_embed").shape;                 // [1, 1 + g², dim]
    if (proj.size() != 4 || pos.size() != 3)
        throw WeightsError(file.path() + ": patch_embed.proj.weight " + format_shape(proj) + " / pos_embed " +
                           format_shape(pos) + " are not [dim, C, p, p] / [1, 1 + tokens, dim]");
    int64_t depth = 0;
    for (const auto& name : file.names())
        if (name.rfind("blocks.", 0) == 0) depth = std::max<int64_t>(depth, std::stoll(name.substr(7)) + 1);
    const int64_t grid = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(pos[1] - 1))));
    ViTOptions o;
    o.dim(proj[0]).in_channels(proj[1]).patch_size(proj[2]).depth(depth).heads(std::max<int64_t>(1, proj[0] / 64));
    o.image_size(grid * proj[2]);
    if (file.contains("blocks.0.mlp.fc1.weight"))
        o.mlp_ratio(static_cast<double>(file.tensor("blocks.0.mlp.fc1.weight").shape[0]) /
                    static_cast<double>(proj[0]));
    o.head_classes(file.contains("head.weight") ? file.tensor("head.weight").shape[0] : 0);
    return o;
}

std::string describe_options(const ViTOptions& o) {
    std::string s = "dim " + std::to_string(o.dim()) + ", patch " + std::to_string(o.patch_size()) + ", depth " +
                    std::to_string(o.depth()) + ", " + std::to_string(o.in_channels()) + " channels, image " +
                    std::to_string(o.image_size());
    struct Known {
        int64_t dim, patch, depth;
        const char* name;
        const char* preset;
    };
    for (const Known& k :
         {Known{768, 16, 12, "ViT-B/16", "vit_base_patch16_224"},
          Known{384, 16, 12, "ViT-S/16", "vit_small_patch16_224"},
          Known{192, 16, 12, "ViT-Ti/16", "vit_tiny_patch16_224"}, Known{64, 7, 3, "Lorica tiny", "tiny"}})
        if (o.dim() == k.dim && o.patch_size() == k.patch && o.depth() == k.depth)
            return s + " (" + k.name + "); hint: is this a " + k.name + " file? set backbone.preset = " + k.preset;
    return s + "; hint: set backbone.dim / patch_size / depth / image_size to match the file";
}

// timm's resample_abs_pos_embed for a class-token model: [1, 1 + g_old², dim] → [1, 1 + g_new², dim].
torch::Tensor resample_pos_embed(const torch::Tensor& pos, int64_t new_grid) {
    const int64_t dim = pos.size(2);
    const int64_t old_grid = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(pos.size(1) - 1))));
    torch::Tensor cls = pos.narrow(1, 0, 1);
    torch::Tensor grid = pos.narrow(1, 1, pos.size(1) - 1).reshape({1, old_grid, old_grid, dim}).permute({0, 3, 1, 2});
    grid =
        torch::nn::functional::interpolate(grid.to(torch::kFloat32), torch::nn::functional::InterpolateFuncOptions()
                                                                         .size(std::vector<int64_t>{new_grid, new_grid})
                                                                         .mode(torch::kBicubic)
                                                                         .align_corners(false)
                                                                         .antialias(false));
    grid = grid.permute({0, 2, 3, 1}).reshape({1, new_grid * new_grid, dim});
    return torch::cat({cls, grid}, 1);
}

// What a timm ResNet file holds (blocks per stage, block kind, stem width), with the preset it fits;
// "" when the file has no layer1.0.conv1.weight (not a ResNet).
std::string describe_resnet_file(const SafetensorsFile& file) {
    if (!file.contains("layer1.0.conv1.weight") || !file.contains("conv1.weight")) return "";
    const bool bottleneck = file.contains("layer1.0.conv3.weight");
    std::vector<int64_t> blocks;
    for (int s = 1;; ++s) {
        int64_t n = 0;
        while (file.contains("layer" + std::to_string(s) + "." + std::to_string(n) + ".conv1.weight")) ++n;
        if (n == 0) break;
        blocks.push_back(n);
    }
    const auto& stem = file.tensor("conv1.weight").shape;  // [width, C, k, k]
    std::string layout;
    for (size_t i = 0; i < blocks.size(); ++i) layout += (i ? ", " : "") + std::to_string(blocks[i]);
    std::string d = std::string("a ResNet with ") + (bottleneck ? "bottleneck" : "basic") + " blocks [" + layout +
                    "], stem " + format_shape(stem);
    const char* preset = nullptr;
    if (bottleneck && blocks == std::vector<int64_t>{3, 4, 6, 3}) preset = "resnet50";
    if (!bottleneck && blocks == std::vector<int64_t>{2, 2, 2, 2}) preset = "resnet18";
    if (!bottleneck && blocks == std::vector<int64_t>{1, 1, 1}) preset = "tiny-resnet";
    return preset ? d + " (" + preset + "); hint: set backbone.preset = " + preset : d;
}

// Parameters and buffers (ResNets' BatchNorm statistics) by name, in model order: what a timm file holds.
std::vector<std::pair<std::string, torch::Tensor>> named_weights(torch::nn::Module& model) {
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (const auto& item : model.named_parameters()) out.emplace_back(item.key(), item.value());
    for (const auto& item : model.named_buffers()) out.emplace_back(item.key(), item.value());
    return out;
}

std::string describe_model(BackboneImpl& model) {
    if (const auto* vit = model.as<VisionTransformerImpl>()) {
        const std::string d = describe_options(vit->options);
        return d.substr(0, d.find(';'));
    }
    return model.description().dump();
}

}  // namespace

ViTOptions infer_vit_options(const std::string& path) { return infer_from_file(SafetensorsFile::open(path)); }

TimmLoadReport load_timm_weights(Backbone model, const std::string& path, const TimmLoadOptions& options) {
    SafetensorsFile file = [&] {
        try {
            return SafetensorsFile::open(path);
        } catch (const SafetensorsError& e) {
            throw WeightsError(std::string("backbone weights: ") + e.what());
        }
    }();
    TimmLoadReport report;
    std::map<std::string, torch::Tensor> staged;  // name → value to copy
    std::vector<std::string> missing, mismatched;
    std::set<std::string> used;
    std::string looks_like;
    auto file_looks_like = [&]() {
        if (looks_like.empty()) {
            if (const std::string resnet = describe_resnet_file(file); !resnet.empty()) {
                looks_like = "the file looks like " + resnet;
                return looks_like;
            }
            try {
                looks_like = "the file looks like " + describe_options(infer_from_file(file));
            } catch (const std::exception& e) {
                looks_like = e.what();
            }
        }
        return looks_like;
    };
    const std::string head_prefix = model->head_name() + ".";
    const auto* vit = model->as<VisionTransformerImpl>();
    const std::vector<std::pair<std::string, torch::Tensor>> model_tensors = named_weights(*model);
    for (const auto& [name, param] : model_tensors) {
        const bool is_head = name.rfind(head_prefix, 0) == 0;
        if (!file.contains(name)) {
            if (is_head) {
                report.notes.push_back(name + " is not in the file: the model's head keeps its initialisation");
                continue;
            }
            missing.push_back(name);
            continue;
        }
        used.insert(name);
        const TensorView& view = file.tensor(name);
        torch::Tensor value = view_to_float_tensor(view);
        if (value.sizes() == param.sizes()) {
            if (is_head && !options.load_head) {
                report.notes.push_back(name + " skipped (load_head = false)");
                continue;
            }
            staged[name] = value;
            continue;
        }
        if (is_head) {
            report.notes.push_back(name + " " + format_shape(view.shape) + " skipped: the model's head is " +
                                   format_shape(param.sizes().vec()) + " (a different number of classes)");
            continue;
        }
        if (vit && name == "pos_embed" && value.dim() == 3 && value.size(0) == 1 && value.size(2) == param.size(2)) {
            const double old_grid = std::sqrt(static_cast<double>(value.size(1) - 1));
            const int64_t new_grid = vit->options.image_size() / vit->options.patch_size();
            if (old_grid == std::floor(old_grid) && options.interpolate_pos_embed) {
                staged[name] = resample_pos_embed(value, new_grid);
                report.notes.push_back("pos_embed " + format_shape(view.shape) + " resampled (bicubic) to " +
                                       format_shape(param.sizes().vec()) + " for image size " +
                                       std::to_string(vit->options.image_size()));
                continue;
            }
        }
        mismatched.push_back(name + ": file " + format_shape(view.shape) + ", model " +
                             format_shape(param.sizes().vec()));
    }
    std::vector<std::string> unexpected;
    for (const auto& name : file.names())
        if (!used.count(name)) {
            if (name.rfind(head_prefix, 0) == 0 && !model->head) {
                report.notes.push_back(name + " skipped: the model has no head");
                continue;
            }
            unexpected.push_back(name);
        }
    if (!mismatched.empty())
        throw WeightsError(path + ": " + std::to_string(mismatched.size()) + " tensors have the wrong size: " +
                           join(mismatched, 6) + "; the model is " + describe_model(*model) + "; " + file_looks_like());
    if (!missing.empty() || !unexpected.empty()) {
        std::string msg = path + ":";
        if (!missing.empty()) msg += " missing keys: " + join(missing) + ";";
        if (!unexpected.empty()) msg += " unexpected keys: " + join(unexpected) + ";";
        throw WeightsError(msg + " " + file_looks_like());
    }
    torch::NoGradGuard no_grad;
    for (const auto& [name, tensor] : model_tensors) {
        auto it = staged.find(name);
        if (it == staged.end()) continue;
        torch::Tensor target = tensor;  // a handle: copy_ writes into the model's tensor
        target.copy_(it->second.to(target.device(), target.scalar_type()));
        report.loaded.push_back(name);
    }
    return report;
}

void save_timm_weights(const std::string& path, Backbone model, const torch::Tensor& head_weight,
                       const torch::Tensor& head_bias) {
    const std::string head = model->head_name();
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& [name, tensor] : named_weights(*model)) {
        if (head_weight.defined() && name.rfind(head + ".", 0) == 0) continue;
        tensors.emplace_back(name, tensor);
    }
    if (head_weight.defined()) {
        tensors.emplace_back(head + ".weight", head_weight);
        if (head_bias.defined()) tensors.emplace_back(head + ".bias", head_bias);
    }
    nlohmann::json description = model->description();
    description["head_classes"] = head_weight.defined() ? head_weight.size(0) : model->head_classes();
    std::map<std::string, std::string> metadata = {{"format", "pt"}, {"lorica.backbone", description.dump()}};
    if (model->as<VisionTransformerImpl>()) {  // read by tools written before ResNets
        nlohmann::json legacy = description;
        legacy.erase("family");
        metadata["lorica.vit"] = legacy.dump();
    }
    save_tensors(path, tensors, metadata);
}

}  // namespace lorica
