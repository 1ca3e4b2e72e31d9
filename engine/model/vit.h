#pragma once
// Vision Transformer with timm's module names and layout, so timm weights load by name.
//
//   cls_token                [1, 1, dim]
//   pos_embed                [1, 1 + tokens, dim]      tokens = (image_size / patch_size)²
//   patch_embed.proj         Conv2d(in_channels → dim, kernel = stride = patch_size)
//   blocks.N.norm1           LayerNorm(dim, eps 1e-6)
//   blocks.N.attn.qkv        LoRALinear(dim → 3·dim), output rows q; k; v
//   blocks.N.attn.proj       LoRALinear(dim → dim)
//   blocks.N.norm2           LayerNorm(dim, eps 1e-6)
//   blocks.N.mlp.fc1         LoRALinear(dim → mlp_ratio·dim), exact (erf) GELU
//   blocks.N.mlp.fc2         LoRALinear(mlp_ratio·dim → dim)
//   norm                     LayerNorm(dim, eps 1e-6)
//   head                     Linear(dim → head_classes), absent when head_classes = 0
//
// Pre-norm blocks: x = x + attn(norm1(x)); x = x + mlp(norm2(x)). Features = norm(x)[:, 0] (the
// class token). Every linear layer inside the blocks is a LoRALinear, so any of them can carry
// adapter terms. In Lorica `head` is the foundation (pre-training) task's head.

#include <string>
#include <utility>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include "engine/config/experiment_config.h"
#include "engine/model/backbone.h"
#include "engine/model/lora_linear.h"
#include "engine/model/init.h"

namespace lorica {

struct ViTOptions {
    int64_t tokens() const { return (image_size_ / patch_size_) * (image_size_ / patch_size_); }
    static ViTOptions from_config(const BackboneConfig& backbone, int64_t head_classes);

    TORCH_ARG(int64_t, image_size) = 28;
    TORCH_ARG(int64_t, patch_size) = 7;
    TORCH_ARG(int64_t, in_channels) = 1;
    TORCH_ARG(int64_t, dim) = 64;
    TORCH_ARG(int64_t, depth) = 3;
    TORCH_ARG(int64_t, heads) = 4;
    TORCH_ARG(double, mlp_ratio) = 4.0;
    TORCH_ARG(int64_t, head_classes) = 0;  // classes of the foundation head (0 = no head)
};

class AttentionImpl : public torch::nn::Module {
public:
    AttentionImpl(int64_t dim, int64_t heads);
    torch::Tensor forward(const torch::Tensor& x);  // [batch, tokens, dim] → same
    LoRALinear qkv{nullptr}, proj{nullptr};
    int64_t heads;
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
public:
    MlpImpl(int64_t dim, int64_t hidden);
    torch::Tensor forward(const torch::Tensor& x);  // [batch, tokens, dim] → same
    LoRALinear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

class BlockImpl : public torch::nn::Module {
public:
    BlockImpl(int64_t dim, int64_t heads, double mlp_ratio);
    torch::Tensor forward(const torch::Tensor& x);  // [batch, tokens, dim] → same
    torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
    Attention attn{nullptr};
    Mlp mlp{nullptr};
};
TORCH_MODULE(Block);

class PatchEmbedImpl : public torch::nn::Module {
public:
    PatchEmbedImpl(int64_t in_channels, int64_t dim, int64_t patch);
    torch::Tensor forward(const torch::Tensor& images);  // [batch, C, H, W] → [batch, tokens, dim]
    torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

class VisionTransformerImpl : public BackboneImpl {
public:
    explicit VisionTransformerImpl(const ViTOptions& options);

    BackboneFamily family() const override { return BackboneFamily::vit; }
    // images [batch, C, H, W] → class-token features [batch, dim]
    torch::Tensor features(const torch::Tensor& images) override;
    int64_t feature_dim() const override { return options.dim(); }
    // Every LoRALinear with its timm module name ("blocks.0.attn.qkv", ...), in model order.
    std::vector<std::pair<std::string, LoRALinear>> lora_layers() override;
    // {"family": "vit", image_size, patch_size, in_channels, dim, depth, heads, mlp_ratio, head_classes}
    nlohmann::json description() const override;
    std::string head_name() const override { return "head"; }

    ViTOptions options;
    PatchEmbed patch_embed{nullptr};
    torch::Tensor cls_token, pos_embed;
    torch::nn::ModuleList blocks{nullptr};
    torch::nn::LayerNorm norm{nullptr};
    // `head` (BackboneImpl::head): Linear(dim → head_classes), absent when head_classes = 0.
};

// A shared handle like TORCH_MODULE's that also converts to the family-neutral Backbone handle.
class VisionTransformer : public torch::nn::ModuleHolder<VisionTransformerImpl> {
public:
    using torch::nn::ModuleHolder<VisionTransformerImpl>::ModuleHolder;
    using Impl = VisionTransformerImpl;
    operator Backbone() const { return Backbone(ptr()); }  // NOLINT(google-explicit-constructor)
};

// The ViT options of a description() (checkpoint metadata); throws std::runtime_error on a missing field.
ViTOptions vit_options_from_description(const nlohmann::json& description);

}  // namespace lorica
