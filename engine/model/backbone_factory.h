#pragma once
// Building a backbone: from the config (backbone.preset and sizes) or from a checkpoint's
// description() (backbone.h). The one place that knows every family.

#include <cstdint>

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"
#include "engine/model/backbone.h"

namespace lorica {

// A freshly initialised backbone of the configured family and sizes with a foundation head of
// `head_classes` outputs (0 = none).
Backbone make_backbone(const BackboneConfig& config, int64_t head_classes);

// The architecture a description() names ({"family": ...}; a description without "family" is a ViT's,
// as checkpoints written before ResNets were). Throws std::runtime_error naming a missing field.
Backbone backbone_from_description(const nlohmann::json& description);

}  // namespace lorica
