#pragma once
// Backbone: what every pre-trained network Lorica adapts offers the trainer, the methods and the
// evaluator — whatever its family (Vision Transformer, residual network).
//
//   features(images)   [batch, C, H, W] → [batch, feature_dim()]   (ViT: class token after `norm`;
//                      ResNet: global-average-pooled output of the last stage)
//   forward(images)    head(features(images)) → [batch, head_classes()]: the foundation
//                      (pre-training) task's head, timm's `head` (ViT) or `fc` (ResNet)
//   lora_layers()      every layer that can carry low-rank terms (LoRALinear: linear layers, and
//                      convolutions viewed as [out, in·kh·kw] matrices), with its timm module name,
//                      in model order
//   backbone_parameters()  every parameter except the foundation head's
//   description()      JSON from which backbone_from_description (backbone_factory.h) rebuilds the
//                      same architecture: {"family": "vit"|"resnet", ...sizes, "head_classes"}
//
// Parameters and buffers carry timm's names and shapes, so timm safetensors load by name
// (io/timm_weights.h). Concrete backbones: VisionTransformerImpl (vit.h), ResNetImpl (resnet.h).
//
// Holding one: `Backbone` is a shared handle like every TORCH_MODULE; `Backbone(vit.ptr())` wraps a
// concrete model, `backbone->as<VisionTransformerImpl>()` gets it back (nullptr for another family).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include "engine/config/backbone_family.h"
#include "engine/model/lora_linear.h"

namespace lorica {

class BackboneImpl : public torch::nn::Module {
public:
    using torch::nn::Module::Module;
    ~BackboneImpl() override = default;

    virtual BackboneFamily family() const = 0;
    // images [batch, C, H, W] → features [batch, feature_dim()]
    virtual torch::Tensor features(const torch::Tensor& images) = 0;
    virtual int64_t feature_dim() const = 0;
    virtual std::vector<std::pair<std::string, LoRALinear>> lora_layers() = 0;
    virtual nlohmann::json description() const = 0;

    // images → foundation-head logits [batch, head_classes()]; requires a head.
    torch::Tensor forward(const torch::Tensor& images);
    // Classes of the foundation head; 0 when the model has none.
    int64_t head_classes() const { return head ? head->options.out_features() : 0; }
    // Every parameter except the foundation head's, in model order.
    std::vector<torch::Tensor> backbone_parameters();
    // Registered under timm's head name ("head" for ViTs, "fc" for ResNets); null when absent.
    torch::nn::Linear head{nullptr};
    // timm's name of the head module: parameters "<head_name>.weight" / ".bias".
    virtual std::string head_name() const = 0;
};

// The shared handle. Default-constructed it is empty (like `Backbone{nullptr}`): BackboneImpl is
// abstract, so a handle always wraps a concrete model (make_backbone, backbone_factory.h).
class Backbone : public torch::nn::ModuleHolder<BackboneImpl> {
public:
    using Impl = BackboneImpl;
    Backbone() : torch::nn::ModuleHolder<BackboneImpl>(nullptr) {}
    Backbone(std::nullptr_t) : torch::nn::ModuleHolder<BackboneImpl>(nullptr) {}  // NOLINT(google-explicit-constructor)
    template <class Model, class = std::enable_if_t<std::is_base_of_v<BackboneImpl, Model>>>
    Backbone(std::shared_ptr<Model> model)  // NOLINT(google-explicit-constructor)
        : torch::nn::ModuleHolder<BackboneImpl>(std::shared_ptr<BackboneImpl>(std::move(model))) {}
};

}  // namespace lorica
