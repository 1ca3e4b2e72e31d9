#include "engine/model/backbone_factory.h"

#include <stdexcept>

#include "engine/model/resnet.h"
#include "engine/model/vit.h"

namespace lorica {

Backbone make_backbone(const BackboneConfig& config, int64_t head_classes) {
    switch (config.family) {
        case BackboneFamily::vit:
            return VisionTransformer(ViTOptions::from_config(config, head_classes));
        case BackboneFamily::resnet:
            return Backbone(
                std::shared_ptr<BackboneImpl>(ResNet(ResNetOptions::from_config(config, head_classes)).ptr()));
    }
    throw std::runtime_error("backbone.preset '" + config.preset + "': unknown backbone family");
}

Backbone backbone_from_description(const nlohmann::json& description) {
    const std::string family = description.value("family", std::string("vit"));
    if (family == "vit") return VisionTransformer(vit_options_from_description(description));
    if (family == "resnet")
        return Backbone(std::shared_ptr<BackboneImpl>(ResNet(resnet_options_from_description(description)).ptr()));
    throw std::runtime_error("backbone description: unknown family '" + family + "' in " + description.dump());
}

}  // namespace lorica
