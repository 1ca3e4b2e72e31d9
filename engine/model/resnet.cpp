#include "engine/model/resnet.h"

#include <stdexcept>

#include <torch/torch.h>

namespace lorica {

namespace {

torch::nn::BatchNorm2d resnet_batchnorm(int64_t channels) {
    return torch::nn::BatchNorm2d(torch::nn::BatchNormOptions(channels).eps(1e-5).momentum(0.1));
}

}  // namespace

ResNetOptions ResNetOptions::preset(const std::string& name) {
    ResNetOptions o;
    if (name == "tiny-resnet") return o;
    if (name != "resnet18" && name != "resnet50")
        throw std::invalid_argument("ResNet preset '" + name + "': expected tiny-resnet, resnet18 or resnet50");
    o.block(name == "resnet50" ? ResNetBlockKind::bottleneck : ResNetBlockKind::basic)
        .layers(name == "resnet50" ? std::vector<int64_t>{3, 4, 6, 3} : std::vector<int64_t>{2, 2, 2, 2})
        .widths({64, 128, 256, 512})
        .in_channels(3)
        .image_size(224)
        .stem_width(64)
        .stem_kernel(7)
        .stem_stride(2)
        .stem_pool(true);
    return o;
}

ResNetOptions ResNetOptions::from_config(const BackboneConfig& b, int64_t head_classes) {
    return preset(b.preset)
        .in_channels(b.in_channels)
        .image_size(b.image_size)
        .head_classes(head_classes)
        .freeze_batchnorm(b.freeze_batchnorm);
}

ResNetBlockImpl::ResNetBlockImpl(ResNetBlockKind kind_, int64_t in, int64_t width, int64_t stride) : kind(kind_) {
    const bool bottleneck = kind == ResNetBlockKind::bottleneck;
    const int64_t out = bottleneck ? 4 * width : width;
    if (bottleneck) {
        conv1 = register_module("conv1", LoRALinear(LoRALinearOptions::conv2d(in, width, 1)));
        bn1 = register_module("bn1", resnet_batchnorm(width));
        conv2 = register_module("conv2", LoRALinear(LoRALinearOptions::conv2d(width, width, 3, stride, 1)));
        bn2 = register_module("bn2", resnet_batchnorm(width));
        conv3 = register_module("conv3", LoRALinear(LoRALinearOptions::conv2d(width, out, 1)));
        bn3 = register_module("bn3", resnet_batchnorm(out));
    } else {
        conv1 = register_module("conv1", LoRALinear(LoRALinearOptions::conv2d(in, width, 3, stride, 1)));
        bn1 = register_module("bn1", resnet_batchnorm(width));
        conv2 = register_module("conv2", LoRALinear(LoRALinearOptions::conv2d(width, width, 3, 1, 1)));
        bn2 = register_module("bn2", resnet_batchnorm(width));
    }
    if (stride != 1 || in != out) {
        downsample = register_module("downsample", torch::nn::ModuleList());
        downsample_conv = LoRALinear(LoRALinearOptions::conv2d(in, out, 1, stride));
        downsample_bn = resnet_batchnorm(out);
        downsample->push_back(downsample_conv);
        downsample->push_back(downsample_bn);
    }
    // timm's zero_init_last: the last BatchNorm of each block starts at γ = 0 (the block starts as its shortcut).
    torch::NoGradGuard no_grad;
    (bottleneck ? bn3 : bn2)->weight.zero_();
}

torch::Tensor ResNetBlockImpl::forward(const torch::Tensor& x) {
    torch::Tensor h = torch::relu(bn1(conv1(x)));
    h = bn2(conv2(h));
    if (kind == ResNetBlockKind::bottleneck) h = bn3(conv3(torch::relu(h)));
    const torch::Tensor shortcut = downsample ? downsample_bn(downsample_conv(x)) : x;
    return torch::relu(h + shortcut);
}

ResNetImpl::ResNetImpl(const ResNetOptions& options_) : options(options_) {
    TORCH_CHECK(!options.layers().empty() && options.layers().size() == options.widths().size(),
                "ResNet: layers and widths must be non-empty lists of the same length");
    const int64_t k = options.stem_kernel();
    conv1 = register_module("conv1", LoRALinear(LoRALinearOptions::conv2d(options.in_channels(), options.stem_width(),
                                                                          k, options.stem_stride(), k / 2)));
    bn1 = register_module("bn1", resnet_batchnorm(options.stem_width()));
    int64_t in = options.stem_width();
    for (size_t s = 0; s < options.layers().size(); ++s) {
        auto stage = register_module("layer" + std::to_string(s + 1), torch::nn::ModuleList());
        for (int64_t m = 0; m < options.layers()[s]; ++m) {
            const int64_t stride = (s > 0 && m == 0) ? 2 : 1;
            stage->push_back(ResNetBlock(options.block(), in, options.widths()[s], stride));
            in = options.widths()[s] * options.expansion();
        }
        stages.push_back(stage);
    }
    if (options.head_classes() > 0) head = register_module("fc", torch::nn::Linear(in, options.head_classes()));
    set_batchnorm_frozen(options.freeze_batchnorm());
}

torch::Tensor ResNetImpl::features(const torch::Tensor& images) {
    torch::Tensor x = torch::relu(bn1(conv1(images)));
    if (options.stem_pool()) x = torch::max_pool2d(x, 3, 2, 1);
    for (auto& stage : stages)
        for (auto& block : *stage) x = block->as<ResNetBlockImpl>()->forward(x);
    return x.mean({2, 3});  // global average pool: [N, C, H, W] → [N, C]
}

std::vector<std::pair<std::string, LoRALinear>> ResNetImpl::lora_layers() {
    std::vector<std::pair<std::string, LoRALinear>> out;
    out.emplace_back("conv1", conv1);
    for (size_t s = 0; s < stages.size(); ++s) {
        for (size_t m = 0; m < stages[s]->size(); ++m) {
            auto* block = stages[s]->ptr(m)->as<ResNetBlockImpl>();
            const std::string prefix = "layer" + std::to_string(s + 1) + "." + std::to_string(m) + ".";
            out.emplace_back(prefix + "conv1", block->conv1);
            out.emplace_back(prefix + "conv2", block->conv2);
            if (block->conv3) out.emplace_back(prefix + "conv3", block->conv3);
            if (block->downsample_conv) out.emplace_back(prefix + "downsample.0", block->downsample_conv);
        }
    }
    return out;
}

nlohmann::json ResNetImpl::description() const {
    return {{"family", "resnet"},
            {"block", options.block() == ResNetBlockKind::bottleneck ? "bottleneck" : "basic"},
            {"layers", options.layers()},
            {"widths", options.widths()},
            {"in_channels", options.in_channels()},
            {"image_size", options.image_size()},
            {"stem_width", options.stem_width()},
            {"stem_kernel", options.stem_kernel()},
            {"stem_stride", options.stem_stride()},
            {"stem_pool", options.stem_pool()},
            {"head_classes", head_classes()},
            {"freeze_batchnorm", options.freeze_batchnorm()}};
}

void ResNetImpl::train(bool on) {
    torch::nn::Module::train(on);
    if (!on || !options.freeze_batchnorm()) return;
    for (const auto& module : modules(/*include_self*/ false))
        if (module->as<torch::nn::BatchNorm2dImpl>()) module->eval();
}

void ResNetImpl::set_batchnorm_frozen(bool frozen) {
    options.freeze_batchnorm(frozen);
    train(is_training());
}

BatchNormStatisticsTraining::BatchNormStatisticsTraining(const Backbone& model)
    : resnet_(std::dynamic_pointer_cast<ResNetImpl>(model.ptr())) {
    if (!resnet_) return;
    was_frozen_ = resnet_->batchnorm_frozen();
    resnet_->set_batchnorm_frozen(false);
}

BatchNormStatisticsTraining::~BatchNormStatisticsTraining() {
    if (resnet_) resnet_->set_batchnorm_frozen(was_frozen_);
}

ResNetOptions resnet_options_from_description(const nlohmann::json& v) {
    try {
        const std::string block = v.at("block").get<std::string>();
        if (block != "basic" && block != "bottleneck") throw std::runtime_error("unknown block '" + block + "'");
        return ResNetOptions()
            .block(block == "bottleneck" ? ResNetBlockKind::bottleneck : ResNetBlockKind::basic)
            .layers(v.at("layers").get<std::vector<int64_t>>())
            .widths(v.at("widths").get<std::vector<int64_t>>())
            .in_channels(v.at("in_channels").get<int64_t>())
            .image_size(v.at("image_size").get<int64_t>())
            .stem_width(v.at("stem_width").get<int64_t>())
            .stem_kernel(v.at("stem_kernel").get<int64_t>())
            .stem_stride(v.at("stem_stride").get<int64_t>())
            .stem_pool(v.at("stem_pool").get<bool>())
            .head_classes(v.at("head_classes").get<int64_t>())
            .freeze_batchnorm(v.value("freeze_batchnorm", true));
    } catch (const nlohmann::json::exception& e) {
        throw std::runtime_error("ResNet description " + v.dump() + ": " + e.what());
    }
}

}  // namespace lorica
