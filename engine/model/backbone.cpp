#include "engine/model/backbone.h"

namespace lorica {

torch::Tensor BackboneImpl::forward(const torch::Tensor& images) {
    TORCH_CHECK(head, "backbone: this model has no foundation head (head_classes = 0)");
    return head(features(images));
}

std::vector<torch::Tensor> BackboneImpl::backbone_parameters() {
    const std::string prefix = head_name() + ".";
    std::vector<torch::Tensor> out;
    for (const auto& item : named_parameters()) {
        if (item.key().rfind(prefix, 0) == 0) continue;
        out.push_back(item.value());
    }
    return out;
}

}  // namespace lorica
