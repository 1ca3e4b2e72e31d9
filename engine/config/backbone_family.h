#pragma once
// Backbone families (config: derived from backbone.preset; stored in checkpoints as "family").
//
//   vit     Vision Transformer, timm names (engine/model/vit.h): presets tiny, vit_*_patch16_224
//   resnet  residual network, timm names (engine/model/resnet.h): presets tiny-resnet, resnet18, resnet50

#include <cstdint>

#include "engine/config/enum_names.h"

namespace lorica {

enum class BackboneFamily : uint8_t { vit, resnet };
inline constexpr EnumNames<BackboneFamily, 2> kBackboneFamilyNames{
    {{BackboneFamily::vit, "vit"}, {BackboneFamily::resnet, "resnet"}}};

}  // namespace lorica
