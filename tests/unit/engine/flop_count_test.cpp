// Inference FLOPs per image (engine/model/flop_count.h) against hand counts of the tiny ViT and the
// tiny ResNet, against the published ViT-B/16 (17.6 GMACs = 35.1 GFLOPs, SD-LoRA's Table 5),
// ResNet-50 (4.1 GMACs) and ResNet-18 (1.8 GMACs), and the adapter terms of a live model: nothing
// per image when folded (as the evaluation runs), r · (in + rows) per position when factored.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "engine/model/flop_count.h"
#include "engine/model/resnet.h"
#include "engine/model/vit.h"

using namespace lorica;

namespace {

// The tiny ViT (vit.h defaults): 28 px, patch 7, 1 channel, dim 64, depth 3, heads 4, mlp 4 →
// 16 patches, T = 17 tokens. Multiply-adds by hand:
//   patch_embed 16 · 49 · 64 = 50,176
//   per block   qkv 17·64·192 = 208,896; proj 17·64·64 = 69,632; fc1 17·64·256 = 278,528; fc2 278,528
//               attention 2 · 17² · 64 = 36,992
//   3 blocks    3 · (835,584 + 36,992) = 2,617,728;  head 64 · 10 = 640
// FLOPs = 2 · (50,176 + 2,617,728 + 640) = 5,337,088.
TEST(FlopCount, TinyViTByHand) {
    const FlopCount c = inference_flops(ViTOptions(), 10);
    EXPECT_EQ(c.layers, 2.0 * (50176 + 3 * 835584));
    EXPECT_EQ(c.attention, 2.0 * 3 * 36992);
    EXPECT_EQ(c.heads, 2.0 * 640);
    EXPECT_EQ(c.adapters, 0.0);
    EXPECT_EQ(c.total(), 5337088.0);
}

// The tiny ResNet (resnet.h defaults): stem 3×3/2 pad 1, 1 → 16 channels, 28 → 14; basic blocks of
// widths 16/32/64, 14 → 14 → 7 → 4. Multiply-adds by hand:
//   conv1                  196 · 9 · 16   =  28,224
//   layer1.0 conv1, conv2  196 · 144 · 16 = 451,584 each
//   layer2.0 conv1         49 · 144 · 32  = 225,792;  conv2 49 · 288 · 32 = 451,584;  downsample 49 · 16 · 32 = 25,088
//   layer3.0 conv1         16 · 288 · 64  = 294,912;  conv2 16 · 576 · 64 = 589,824;  downsample 16 · 32 · 64 = 32,768
//   sum 2,551,360; head 64 · 10 = 640 → FLOPs 2 · 2,552,000 = 5,104,000.
TEST(FlopCount, TinyResNetByHand) {
    const std::vector<LayerWork> work = layer_work(ResNetOptions());
    ASSERT_EQ(work.size(), 9u);
    EXPECT_EQ(work[0].name, "conv1");
    EXPECT_EQ(work[0].positions, 196);
    EXPECT_EQ(work[5].name, "layer2.0.downsample.0");
    EXPECT_EQ(work[5].positions, 49);
    EXPECT_EQ(work[6].name, "layer3.0.conv1");
    EXPECT_EQ(work[6].positions, 16);
    const FlopCount c = inference_flops(ResNetOptions(), 10);
    EXPECT_EQ(c.layers, 2.0 * 2551360);
    EXPECT_EQ(c.attention, 0.0);
    EXPECT_EQ(c.total(), 5104000.0);
}

TEST(FlopCount, PublishedViTB16AndResNets) {
    const ViTOptions vit_b = ViTOptions()
                                 .image_size(224)
                                 .patch_size(16)
                                 .in_channels(3)
                                 .dim(768)
                                 .depth(12)
                                 .heads(12)
                                 .mlp_ratio(4.0)
                                 .head_classes(1000);
    const FlopCount vit = inference_flops(vit_b, 1000);
    EXPECT_NEAR(vit.total() / 2.0 * 1e-9, 17.56, 0.01) << "ViT-B/16: 17.6 GMACs";
    EXPECT_NEAR(vit.gflops(), 35.1, 0.05) << "SD-LoRA's Table 5: 35.1 GFLOPs";
    // ResNet-50 4.1 GMACs, ResNet-18 1.8 GMACs (torchvision's model cards) at 224 px, 1,000 classes.
    EXPECT_NEAR(inference_flops(ResNetOptions::preset("resnet50"), 1000).total() / 2.0 * 1e-9, 4.09, 0.03);
    EXPECT_NEAR(inference_flops(ResNetOptions::preset("resnet18"), 1000).total() / 2.0 * 1e-9, 1.81, 0.02);
}

TEST(FlopCount, LayerWorkNamesEveryAdaptableLayer) {
    VisionTransformer vit(ViTOptions().head_classes(3));
    ResNet resnet(ResNetOptions().head_classes(3));
    for (Backbone model : {Backbone(vit.ptr()), Backbone(resnet.ptr())}) {
        const std::vector<LayerWork> work =
            model->family() == BackboneFamily::vit ? layer_work(vit->options) : layer_work(resnet->options);
        std::set<std::string> names;
        for (const auto& w : work) names.insert(w.name);
        for (auto& [name, layer] : model->lora_layers()) {
            EXPECT_TRUE(names.count(name)) << name;
            for (const auto& w : work)
                if (w.name == name) {
                    EXPECT_EQ(w.in, layer->options.in_features()) << name;
                    EXPECT_EQ(w.out, layer->options.out_features()) << name;
                }
        }
    }
}

TEST(FlopCount, AdapterTermsCostNothingFoldedAndTheirSideBranchFactored) {
    torch::manual_seed(0);
    VisionTransformer vit{ViTOptions()};
    Backbone model(vit.ptr());
    const double plain = inference_flops(ViTOptions(), 10).total();
    EXPECT_EQ(inference_flops(*model, 10).total(), plain);
    // Rank 2 on q of blocks.0.attn.qkv (in 64, rows 64) and rank 3 on fc2 of block 2 (in 256, rows 64).
    vit->lora_layers()[0].second->add_term(LowRankTerm::lora(2, 64, 64, 0, 1.0));
    for (auto& [name, layer] : vit->lora_layers())
        if (name == "blocks.2.mlp.fc2") layer->add_term(LowRankTerm::lora(3, 256, 64, 0, 1.0));
    EXPECT_EQ(inference_flops(*model, 10, TermCost::folded).total(), plain);
    const FlopCount factored = inference_flops(*model, 10, TermCost::factored);
    EXPECT_EQ(factored.adapters, 2.0 * 17 * (2 * (64 + 64) + 3 * (256 + 64)));
    EXPECT_EQ(factored.total(), plain + factored.adapters);

    // Conv mode: rank 2 on layer1.0.conv1 (in 16 · 9 = 144, rows 16) at 196 positions.
    ResNet resnet{ResNetOptions()};
    for (auto& [name, layer] : resnet->lora_layers())
        if (name == "layer1.0.conv1") layer->add_term(LowRankTerm::lora(2, 144, 16, 0, 1.0));
    Backbone res(resnet.ptr());
    EXPECT_EQ(inference_flops(*res, 10, TermCost::factored).adapters, 2.0 * 196 * 2 * (144 + 16));
    EXPECT_EQ(inference_flops(*res, 10).total(), inference_flops(ResNetOptions(), 10).total());
}

}  // namespace
