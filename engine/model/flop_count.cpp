#include "engine/model/flop_count.h"

#include <map>
#include <stdexcept>

namespace lorica {
namespace {

// Output height of a k×k conv with `stride` and `padding` over input height `h`.
int64_t flop_count_conv_out(int64_t h, int64_t k, int64_t stride, int64_t padding) {
    return (h + 2 * padding - k) / stride + 1;
}

double flop_count_layers(const std::vector<LayerWork>& work) {
    double macs = 0.0;
    for (const auto& w : work) macs += w.macs();
    return 2.0 * macs;
}

}  // namespace

std::vector<LayerWork> layer_work(const ViTOptions& o) {
    const int64_t d = o.dim(), patches = o.tokens(), T = patches + 1;
    const int64_t hidden = static_cast<int64_t>(o.mlp_ratio() * static_cast<double>(d));
    std::vector<LayerWork> out;
    out.push_back({"patch_embed.proj", patches, o.in_channels() * o.patch_size() * o.patch_size(), d});
    for (int64_t b = 0; b < o.depth(); ++b) {
        const std::string p = "blocks." + std::to_string(b) + ".";
        out.push_back({p + "attn.qkv", T, d, 3 * d});
        out.push_back({p + "attn.proj", T, d, d});
        out.push_back({p + "mlp.fc1", T, d, hidden});
        out.push_back({p + "mlp.fc2", T, hidden, d});
    }
    return out;
}

std::vector<LayerWork> layer_work(const ResNetOptions& o) {
    std::vector<LayerWork> out;
    auto conv = [&](const std::string& name, int64_t h_in, int64_t c_in, int64_t c_out, int64_t k, int64_t stride,
                    int64_t padding) {
        const int64_t h = flop_count_conv_out(h_in, k, stride, padding);
        out.push_back({name, h * h, c_in * k * k, c_out});
        return h;
    };
    const int64_t k = o.stem_kernel();
    int64_t h = conv("conv1", o.image_size(), o.in_channels(), o.stem_width(), k, o.stem_stride(), k / 2);
    if (o.stem_pool()) h = flop_count_conv_out(h, 3, 2, 1);
    int64_t in = o.stem_width();
    const bool bottleneck = o.block() == ResNetBlockKind::bottleneck;
    for (size_t s = 0; s < o.layers().size(); ++s) {
        const int64_t width = o.widths()[s];
        const int64_t block_out = width * o.expansion();
        for (int64_t m = 0; m < o.layers()[s]; ++m) {
            const int64_t stride = (s > 0 && m == 0) ? 2 : 1;
            const std::string p = "layer" + std::to_string(s + 1) + "." + std::to_string(m) + ".";
            int64_t h_out = 0;
            if (bottleneck) {
                const int64_t h1 = conv(p + "conv1", h, in, width, 1, 1, 0);
                h_out = conv(p + "conv2", h1, width, width, 3, stride, 1);
                conv(p + "conv3", h_out, width, block_out, 1, 1, 0);
            } else {
                h_out = conv(p + "conv1", h, in, width, 3, stride, 1);
                conv(p + "conv2", h_out, width, width, 3, 1, 1);
            }
            if (stride != 1 || in != block_out) conv(p + "downsample.0", h, in, block_out, 1, stride, 0);
            h = h_out;
            in = block_out;
        }
    }
    return out;
}

FlopCount inference_flops(const ViTOptions& o, int64_t head_outputs) {
    FlopCount c;
    c.layers = flop_count_layers(layer_work(o));
    const double T = static_cast<double>(o.tokens() + 1);
    c.attention = 2.0 * static_cast<double>(o.depth()) * 2.0 * T * T * static_cast<double>(o.dim());
    c.heads = 2.0 * static_cast<double>(o.dim()) * static_cast<double>(head_outputs);
    return c;
}

FlopCount inference_flops(const ResNetOptions& o, int64_t head_outputs) {
    FlopCount c;
    c.layers = flop_count_layers(layer_work(o));
    c.heads = 2.0 * static_cast<double>(o.feature_dim()) * static_cast<double>(head_outputs);
    return c;
}

FlopCount inference_flops(BackboneImpl& model, int64_t head_outputs, TermCost terms) {
    FlopCount c;
    std::vector<LayerWork> work;
    if (const auto* vit = model.as<VisionTransformerImpl>()) {
        c = inference_flops(vit->options, head_outputs);
        work = layer_work(vit->options);
    } else if (const auto* resnet = model.as<ResNetImpl>()) {
        c = inference_flops(resnet->options, head_outputs);
        work = layer_work(resnet->options);
    } else {
        throw std::invalid_argument("inference_flops: neither a ViT nor a ResNet backbone");
    }
    if (terms == TermCost::folded) return c;
    std::map<std::string, int64_t> positions;
    for (const auto& w : work) positions[w.name] = w.positions;
    for (auto& [name, layer] : model.lora_layers()) {
        const auto it = positions.find(name);
        if (it == positions.end()) continue;
        for (const auto& t : layer->terms())
            c.adapters += 2.0 * static_cast<double>(it->second) * static_cast<double>(t.rank()) *
                          static_cast<double>(layer->options.in_features() + t.rows());
    }
    return c;
}

}  // namespace lorica
