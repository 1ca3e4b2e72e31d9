#pragma once
// Residual network with timm's module names and layout (timm.models.resnet), so timm weights load
// by name (io/timm_weights.h).
//
//   conv1                    stem conv in_channels → stem_width, k×k (timm: 7×7, stride 2, pad 3)
//   bn1                      BatchNorm2d(stem_width), then ReLU, then (stem_pool) max pool 3×3 / 2
//   layerS.M                 block M of stage S = 1..4 (ModuleList "layerS", children "0", "1", ...)
//     basic block (resnet18: [2, 2, 2, 2]), expansion 1, out = width:
//       conv1  3×3 in → width, stride s, pad 1; bn1; ReLU
//       conv2  3×3 width → width, stride 1, pad 1; bn2
//     bottleneck (resnet50: [3, 4, 6, 3]), expansion 4, out = 4·width; stride on conv2 as timm:
//       conv1  1×1 in → width; bn1; ReLU
//       conv2  3×3 width → width, stride s, pad 1; bn2; ReLU
//       conv3  1×1 width → 4·width; bn3
//     downsample.0  1×1 conv in → out, stride s; downsample.1 BatchNorm2d(out)   (when s ≠ 1 or in ≠ out)
//     y = ReLU(bn_last(...) + shortcut(x))
//   global average pool → features [batch, feature_dim] (feature_dim = the last stage's out)
//   fc                       Linear(feature_dim → head_classes): the foundation (ImageNet) head
//
// Stage S ≥ 2 starts with stride 2. BatchNorm: eps 1e-5, momentum 0.1, buffers running_mean,
// running_var, num_batches_tracked under timm's names. Every conv is a LoRALinear in conv mode
// (lora_linear.h: weight [out, C, k, k], terms on the [out, C·k·k] matrix), listed by lora_layers()
// with its timm name: "conv1" (the stem), "layer1.0.conv1", ..., "layer1.0.downsample.0".
// `fc` is the foundation head, a plain Linear: it carries no terms (the forgetting study keeps the
// ImageNet head frozen; stream tasks get their own heads).
//
// freeze_batchnorm: train(true) leaves every BatchNorm in eval mode, so its running statistics stay as
// loaded or pre-trained while adapting (the study puts the backbone in eval mode before each task);
// set_batchnorm_frozen(false) lets them update (the foundation step trains them from scratch).
//
// Presets (ResNetOptions::preset):
//   resnet18     basic [2, 2, 2, 2], widths 64/128/256/512, stem 7×7/2 + max pool, 224 px, 512 features
//   resnet50     bottleneck [3, 4, 6, 3], widths 64/128/256/512, stem 7×7/2 + max pool, 2048 features
//   tiny-resnet  basic [1, 1, 1], widths 16/32/64, stem 3×3 / 2 (16 channels) without pool, for 1-channel
//                28 px images (28 → 14 → 14 → 7 → 4), 64 features; the CPU default's size: a full training
//                step at batch 128 on one thread takes about the tiny ViT's (≈ 35 ms each on the 2-core
//                AMD EPYC test machine; a stride-1 stem took 4×, widths 8/16/32 with it 1.7×)

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include "engine/config/experiment_config.h"
#include "engine/model/backbone.h"
#include "engine/model/lora_linear.h"

namespace lorica {

enum class ResNetBlockKind { basic, bottleneck };

struct ResNetOptions {
    // The named architecture ("tiny-resnet", "resnet18", "resnet50"); throws std::invalid_argument otherwise.
    static ResNetOptions preset(const std::string& name);
    static ResNetOptions from_config(const BackboneConfig& backbone, int64_t head_classes);

    int64_t expansion() const { return block_ == ResNetBlockKind::bottleneck ? 4 : 1; }
    int64_t feature_dim() const { return widths_.back() * expansion(); }

    TORCH_ARG(ResNetBlockKind, block) = ResNetBlockKind::basic;
    TORCH_ARG(std::vector<int64_t>, layers) = std::vector<int64_t>{1, 1, 1};     // blocks per stage
    TORCH_ARG(std::vector<int64_t>, widths) = std::vector<int64_t>{16, 32, 64};  // block width per stage
    TORCH_ARG(int64_t, in_channels) = 1;
    TORCH_ARG(int64_t, image_size) = 28;  // the images the model is meant for (any size runs)
    TORCH_ARG(int64_t, stem_width) = 16;
    TORCH_ARG(int64_t, stem_kernel) = 3;  // stem conv k (padding k / 2)
    TORCH_ARG(int64_t, stem_stride) = 2;
    TORCH_ARG(bool, stem_pool) = false;  // 3×3 / 2 max pool after the stem
    TORCH_ARG(int64_t, head_classes) = 0;
    TORCH_ARG(bool, freeze_batchnorm) = true;
};

// One residual block (basic or bottleneck); conv3 / bn3 only in a bottleneck, downsample_* only when
// the shortcut needs a projection.
class ResNetBlockImpl : public torch::nn::Module {
public:
    ResNetBlockImpl(ResNetBlockKind kind, int64_t in, int64_t width, int64_t stride);
    torch::Tensor forward(const torch::Tensor& x);  // [N, in, H, W] → [N, out, H / stride, W / stride]

    ResNetBlockKind kind;
    LoRALinear conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn3{nullptr};
    torch::nn::ModuleList downsample{nullptr};  // "downsample.0" conv, "downsample.1" BatchNorm
    LoRALinear downsample_conv{nullptr};
    torch::nn::BatchNorm2d downsample_bn{nullptr};
};
TORCH_MODULE(ResNetBlock);

class ResNetImpl : public BackboneImpl {
public:
    explicit ResNetImpl(const ResNetOptions& options);

    BackboneFamily family() const override { return BackboneFamily::resnet; }
    // images [batch, C, H, W] → pooled features [batch, feature_dim]
    torch::Tensor features(const torch::Tensor& images) override;
    int64_t feature_dim() const override { return options.feature_dim(); }
    // Every conv with its timm name, in model order (stem, then block by block: conv1, conv2, conv3,
    // downsample.0).
    std::vector<std::pair<std::string, LoRALinear>> lora_layers() override;
    // {"family": "resnet", "block", "layers", "widths", "in_channels", "image_size", "stem_width",
    //  "stem_kernel", "stem_stride", "stem_pool", "head_classes", "freeze_batchnorm"}
    nlohmann::json description() const override;
    std::string head_name() const override { return "fc"; }

    // Module::train, except that with frozen BatchNorm every BatchNorm stays in eval mode.
    void train(bool on = true) override;
    // Freezes (true) or releases (false) the BatchNorm statistics; applies the current mode again.
    void set_batchnorm_frozen(bool frozen);
    bool batchnorm_frozen() const { return options.freeze_batchnorm(); }

    ResNetOptions options;
    LoRALinear conv1{nullptr};
    torch::nn::BatchNorm2d bn1{nullptr};
    std::vector<torch::nn::ModuleList> stages;  // "layer1", "layer2", ... of ResNetBlock
};
TORCH_MODULE(ResNet);

// For one scope, a ResNet's BatchNorm statistics train whatever freeze_batchnorm says (the foundation
// step pre-trains them: freezing applies while adapting); the option is restored when the scope ends.
// Does nothing for other backbones.
class BatchNormStatisticsTraining {
public:
    explicit BatchNormStatisticsTraining(const Backbone& model);
    ~BatchNormStatisticsTraining();
    BatchNormStatisticsTraining(const BatchNormStatisticsTraining&) = delete;
    BatchNormStatisticsTraining& operator=(const BatchNormStatisticsTraining&) = delete;

private:
    std::shared_ptr<ResNetImpl> resnet_;  // null for other families
    bool was_frozen_ = false;
};

// The options a description() names; throws std::runtime_error naming a missing field.
ResNetOptions resnet_options_from_description(const nlohmann::json& description);

}  // namespace lorica
