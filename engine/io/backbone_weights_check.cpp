#include "engine/io/backbone_weights_check.h"

#include <filesystem>

#include <torch/torch.h>

#include "engine/io/safetensors.h"
#include "engine/io/timm_weights.h"
#include "engine/model/global_generator_guard.h"
#include "engine/model/backbone_factory.h"
#include "engine/model/vit.h"

namespace lorica {

BackboneWeightsCheck check_backbone_weights(const ExperimentConfig& config) {
    namespace fs = std::filesystem;
    BackboneWeightsCheck out;
    out.path = config.backbone.weights;
    std::error_code ec;
    if (out.path.empty()) {
        out.error = "no weights file set (backbone.weights is empty)";
        return out;
    }
    if (!fs::exists(out.path, ec)) {
        out.error = "'" + out.path + "': no such file";
        return out;
    }
    if (fs::is_directory(out.path, ec)) {
        out.error = "'" + out.path + "' is a directory, not a safetensors file";
        return out;
    }
    try {
        out.summary = describe_safetensors(SafetensorsFile::open(out.path));
        out.readable = true;
    } catch (const std::exception& e) {
        out.error = e.what();
        return out;
    }
    try {
        const ViTOptions o = infer_vit_options(out.path);
        out.implied = "dim " + std::to_string(o.dim()) + ", patch " + std::to_string(o.patch_size()) + ", depth " +
                      std::to_string(o.depth()) + ", heads " + std::to_string(o.heads()) + ", image " +
                      std::to_string(o.image_size()) + ", in_channels " + std::to_string(o.in_channels()) +
                      (o.head_classes() > 0 ? ", head " + std::to_string(o.head_classes()) + " classes" : ", no head");
    } catch (const std::exception&) {
        out.implied.clear();  // not a timm ViT layout; the load below says what is missing
    }
    try {
        torch::NoGradGuard no_grad;
        const GlobalGeneratorGuard keep_generator;  // the model's init draws from it
        const int64_t head_classes = config.foundation.enabled ? config.foundation.classes : 0;
        Backbone model = make_backbone(config.backbone, head_classes);
        const TimmLoadReport report = load_timm_weights(model, out.path);
        out.notes = report.notes;
        out.loads = true;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    return out;
}

}  // namespace lorica
