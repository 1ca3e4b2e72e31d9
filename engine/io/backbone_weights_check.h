#pragma once
// The set-up panel's check of backbone.weights: the file's inspect summary (describe_safetensors, as
// `lorica-cli inspect FILE` prints it), the ViT sizes the file implies (infer_vit_options), and
// whether it loads into the configured backbone (load_timm_weights on a freshly built model: tensor
// names and shapes, the same check as preflight's step 4). Torch-free header (the GUI includes it);
// the check itself reads the file and builds the model, so call it off the GUI thread.

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"

namespace lorica {

struct BackboneWeightsCheck {
    std::string path;
    bool readable = false;           // a valid safetensors file (summary filled)
    bool loads = false;              // loads into the configured backbone
    std::string summary;             // describe_safetensors: tensors, dtypes, shapes, totals, metadata
    std::string implied;             // "dim 64, patch 7, depth 3, heads 1, image 28, head 5 classes" ("" when unknown)
    std::string error;               // why it is not readable / does not load ("" when it loads)
    std::vector<std::string> notes;  // load notes (head skipped, pos_embed resampled, ...)
};

// Checks `config.backbone.weights` (must be non-empty) against `config.backbone`.
BackboneWeightsCheck check_backbone_weights(const ExperimentConfig& config);

}  // namespace lorica
