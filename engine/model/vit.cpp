#include "engine/model/vit.h"

#include <algorithm>
#include <cmath>

#include <torch/torch.h>

#include "engine/model/dense_linear.h"
#include "engine/model/model_paths.h"

namespace lorica {

ViTOptions ViTOptions::from_config(const BackboneConfig& b, int64_t head_classes) {
    return ViTOptions()
        .image_size(b.image_size)
        .patch_size(b.patch_size)
        .in_channels(b.in_channels)
        .dim(b.dim)
        .depth(b.depth)
        .heads(b.heads)
        .mlp_ratio(b.mlp_ratio)
        .head_classes(head_classes);
}

AttentionImpl::AttentionImpl(int64_t dim, int64_t heads_) : heads(heads_) {
    qkv = register_module("qkv", LoRALinear(LoRALinearOptions(dim, 3 * dim)));
    proj = register_module("proj", LoRALinear(LoRALinearOptions(dim, dim)));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x) {
    const int64_t batch = x.size(0), tokens = x.size(1), dim = x.size(2), head_dim = dim / heads;
    // [batch, tokens, 3·dim] → q, k, v [batch, heads, tokens, head_dim], views of the qkv output: the
    // backward concatenates their gradients straight into [batch, tokens, 3·dim] (selecting from a
    // permuted [3, batch, heads, tokens, head_dim] would zero-fill and add three full-size tensors).
    std::vector<torch::Tensor> qkv_parts = qkv(x).split(dim, -1);
    for (auto& part : qkv_parts) part = part.view({batch, tokens, heads, head_dim}).transpose(1, 2);
    const torch::Tensor &q = qkv_parts[0], &k = qkv_parts[1], &v = qkv_parts[2];
    torch::Tensor attended;  // [batch, heads, tokens, head_dim]
    if (attention_uses_explicit_kernel(tokens, head_dim)) {
        const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim));
        attended = torch::softmax(torch::matmul(q * scale, k.transpose(-2, -1)), -1).matmul(v);
    } else {
        attended = at::scaled_dot_product_attention(q, k, v);
    }
    // [batch, heads, tokens, head_dim] → [batch, tokens, dim]
    return proj(attended.transpose(1, 2).reshape({batch, tokens, dim}));
}

MlpImpl::MlpImpl(int64_t dim, int64_t hidden) {
    fc1 = register_module("fc1", LoRALinear(LoRALinearOptions(dim, hidden)));
    fc2 = register_module("fc2", LoRALinear(LoRALinearOptions(hidden, dim)));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    const bool needs_grad =
        torch::GradMode::is_enabled() &&
        (x.requires_grad() || fc1->weight.requires_grad() || (fc1->bias.defined() && fc1->bias.requires_grad()) ||
         std::any_of(fc1->terms().begin(), fc1->terms().end(), [](const LowRankTerm& t) {
             return t.trainable_factors() || (t.magnitude.defined() && t.magnitude.requires_grad());
         }));
    if (needs_grad ||
        dense_linear_kernel(x, fc1->weight, model_paths().dense, ProductRole::forward_gelu) != GemmKernel::onednn)
        return fc2(torch::gelu(fc1(x)));
    // No gradient, oneDNN chosen for this product: GELU fused into fc1's product (dense_linear.h), with fc1's
    // terms merged into its weight.
    const torch::Tensor w = fc1->terms().empty() ? fc1->weight : fc1->merged_weight();
    return fc2(dense_linear(x, w, fc1->bias, DenseActivation::gelu, model_paths().dense));
}

BlockImpl::BlockImpl(int64_t dim, int64_t heads, double mlp_ratio) {
    norm1 = register_module("norm1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    attn = register_module("attn", Attention(dim, heads));
    norm2 = register_module("norm2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    mlp = register_module("mlp", Mlp(dim, static_cast<int64_t>(dim * mlp_ratio)));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x) {
    torch::Tensor h = x + attn(norm1(x));
    return h + mlp(norm2(h));
}

PatchEmbedImpl::PatchEmbedImpl(int64_t in_channels, int64_t dim, int64_t patch) {
    proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, dim, patch).stride(patch)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& images) {
    return proj(images).flatten(2).transpose(1, 2);  // [batch, dim, h, w] → [batch, h·w, dim]
}

VisionTransformerImpl::VisionTransformerImpl(const ViTOptions& options_) : options(options_) {
    TORCH_CHECK(options.image_size() % options.patch_size() == 0, "ViT: patch size ", options.patch_size(),
                " does not divide image size ", options.image_size());
    TORCH_CHECK(options.dim() % options.heads() == 0, "ViT: heads ", options.heads(), " do not divide dim ",
                options.dim());
    const int64_t dim = options.dim();
    patch_embed = register_module("patch_embed", PatchEmbed(options.in_channels(), dim, options.patch_size()));
    cls_token = register_parameter("cls_token", torch::zeros({1, 1, dim}));
    pos_embed = register_parameter("pos_embed", torch::zeros({1, 1 + options.tokens(), dim}));
    blocks = register_module("blocks", torch::nn::ModuleList());
    for (int64_t i = 0; i < options.depth(); ++i) blocks->push_back(Block(dim, options.heads(), options.mlp_ratio()));
    norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({dim}).eps(1e-6)));
    if (options.head_classes() > 0) {
        head = register_module("head", torch::nn::Linear(dim, options.head_classes()));
    }
    torch::NoGradGuard no_grad;
    trunc_normal_(pos_embed, 0.0, 0.02, -0.04, 0.04);
    torch::nn::init::normal_(cls_token, 0.0, 1e-6);
    if (head) {
        trunc_normal_(head->weight, 0.0, 0.02, -0.04, 0.04);
        head->bias.zero_();
    }
}

torch::Tensor VisionTransformerImpl::features(const torch::Tensor& images) {
    torch::Tensor x = patch_embed(images);                                      // [batch, tokens, dim]
    x = torch::cat({cls_token.expand({x.size(0), -1, -1}), x}, 1) + pos_embed;  // [batch, 1 + tokens, dim]
    for (const auto& block : *blocks) x = block->as<BlockImpl>()->forward(x);
    return norm(x).select(1, 0);  // [batch, dim]
}

std::vector<std::pair<std::string, LoRALinear>> VisionTransformerImpl::lora_layers() {
    std::vector<std::pair<std::string, LoRALinear>> out;
    for (size_t i = 0; i < blocks->size(); ++i) {
        auto* block = (*blocks)[i]->as<BlockImpl>();
        const std::string prefix = "blocks." + std::to_string(i) + ".";
        out.emplace_back(prefix + "attn.qkv", block->attn->qkv);
        out.emplace_back(prefix + "attn.proj", block->attn->proj);
        out.emplace_back(prefix + "mlp.fc1", block->mlp->fc1);
        out.emplace_back(prefix + "mlp.fc2", block->mlp->fc2);
    }
    return out;
}

nlohmann::json VisionTransformerImpl::description() const {
    return {{"family", "vit"},
            {"image_size", options.image_size()},
            {"patch_size", options.patch_size()},
            {"in_channels", options.in_channels()},
            {"dim", options.dim()},
            {"depth", options.depth()},
            {"heads", options.heads()},
            {"mlp_ratio", options.mlp_ratio()},
            {"head_classes", head_classes()}};
}

ViTOptions vit_options_from_description(const nlohmann::json& v) {
    try {
        return ViTOptions()
            .image_size(v.at("image_size").get<int64_t>())
            .patch_size(v.at("patch_size").get<int64_t>())
            .in_channels(v.at("in_channels").get<int64_t>())
            .dim(v.at("dim").get<int64_t>())
            .depth(v.at("depth").get<int64_t>())
            .heads(v.at("heads").get<int64_t>())
            .mlp_ratio(v.at("mlp_ratio").get<double>())
            .head_classes(v.at("head_classes").get<int64_t>());
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error("ViT description " + v.dump() + ": " + e.what());
    }
}

}  // namespace lorica
