// The ViT: timm's module names and shapes, and the adapter-target resolution over them.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <set>

#include "engine/model/adapter_targets.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"

using namespace lorica;

TEST(VisionTransformer, TinyDefaultShapesAndTimmNames) {
    VisionTransformer vit(ViTOptions().head_classes(5));
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& p : vit->named_parameters()) shapes[p.key()] = p.value().sizes().vec();
    EXPECT_EQ(shapes.at("cls_token"), (std::vector<int64_t>{1, 1, 64}));
    EXPECT_EQ(shapes.at("pos_embed"), (std::vector<int64_t>{1, 17, 64}));  // 16 patches of 7×7 + cls
    EXPECT_EQ(shapes.at("patch_embed.proj.weight"), (std::vector<int64_t>{64, 1, 7, 7}));
    EXPECT_EQ(shapes.at("blocks.2.attn.qkv.weight"), (std::vector<int64_t>{192, 64}));
    EXPECT_EQ(shapes.at("blocks.0.mlp.fc1.weight"), (std::vector<int64_t>{256, 64}));
    EXPECT_EQ(shapes.at("blocks.0.mlp.fc2.weight"), (std::vector<int64_t>{64, 256}));
    EXPECT_EQ(shapes.at("norm.weight"), (std::vector<int64_t>{64}));
    EXPECT_EQ(shapes.at("head.weight"), (std::vector<int64_t>{5, 64}));
    EXPECT_FALSE(shapes.count("blocks.3.norm1.weight"));
    int64_t total = 0;
    for (const auto& p : vit->parameters()) total += p.numel();
    // patch embed 64·49 + 64 = 3,200; cls 64; pos 17·64 = 1,088; per block: norms 2·128, qkv 64·192 + 192,
    // proj 64·64 + 64, fc1 64·256 + 256, fc2 256·64 + 64 = 49,984 (× 3); final norm 128; head 5·64 + 5 = 325
    EXPECT_EQ(total, 3200 + 64 + 1088 + 3 * 49984 + 128 + 325);

    auto images = torch::randn({2, 1, 28, 28});
    EXPECT_EQ(vit->features(images).sizes(), (std::vector<int64_t>{2, 64}));
    EXPECT_EQ(vit->forward(images).sizes(), (std::vector<int64_t>{2, 5}));
}

TEST(VisionTransformer, VitBase16HasTimmShapes) {
    VisionTransformer vit(ViTOptions().image_size(224).patch_size(16).in_channels(3).dim(768).depth(12).heads(12));
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& p : vit->named_parameters()) shapes[p.key()] = p.value().sizes().vec();
    EXPECT_EQ(shapes.at("pos_embed"), (std::vector<int64_t>{1, 197, 768}));
    EXPECT_EQ(shapes.at("patch_embed.proj.weight"), (std::vector<int64_t>{768, 3, 16, 16}));
    EXPECT_EQ(shapes.at("blocks.11.attn.qkv.weight"), (std::vector<int64_t>{2304, 768}));
    EXPECT_EQ(shapes.at("blocks.11.mlp.fc1.weight"), (std::vector<int64_t>{3072, 768}));
    int64_t total = 0;
    for (const auto& p : vit->parameters()) total += p.numel();
    EXPECT_EQ(total, 85798656) << "timm vit_base_patch16_224 without head: 85,798,656 parameters";
}

TEST(VisionTransformer, LayerNormEpsAndExactGelu) {
    VisionTransformer vit{ViTOptions()};
    auto* block = (*vit->blocks)[0]->as<BlockImpl>();
    EXPECT_DOUBLE_EQ(block->norm1->options.eps(), 1e-6);
    EXPECT_DOUBLE_EQ(vit->norm->options.eps(), 1e-6);
    // exact GELU: 0.5·x·(1 + erf(x/√2)); at x = 1: 0.841344746
    EXPECT_NEAR(torch::gelu(torch::tensor(1.0)).item<double>(), 0.8413447460685429, 1e-7);
}

TEST(AdapterTargets, ShorthandsAndPatterns) {
    VisionTransformer vit{ViTOptions()};
    auto qv = resolve_adapter_sites(vit, {"q", "v"});
    ASSERT_EQ(qv.size(), 6u);
    EXPECT_EQ(qv[0].name(), "blocks.0.attn.qkv:q");
    EXPECT_EQ(qv[0].row_offset, 0);
    EXPECT_EQ(qv[1].name(), "blocks.0.attn.qkv:v");
    EXPECT_EQ(qv[1].row_offset, 128);
    EXPECT_EQ(qv[1].rows, 64);
    auto qkv = resolve_adapter_sites(vit, {"blocks.*.attn.qkv"});
    ASSERT_EQ(qkv.size(), 3u);
    EXPECT_EQ(qkv[2].rows, 192);
    EXPECT_EQ(resolve_adapter_sites(vit, {"all-linear"}).size(), 12u);
    EXPECT_EQ(resolve_adapter_sites(vit, {"blocks.1.mlp.*"}).size(), 2u);
    EXPECT_THROW(resolve_adapter_sites(vit, {"blocks.*.attn.out"}), std::invalid_argument);
    EXPECT_THROW(resolve_adapter_sites(vit, {"blocks.*.mlp.fc1:q"}), std::invalid_argument);
    EXPECT_TRUE(module_name_matches("blocks.*.attn.qkv", "blocks.11.attn.qkv"));
    EXPECT_FALSE(module_name_matches("blocks.*.attn.qkv", "blocks.11.attn.proj"));
}

TEST(TaskHeads, ClassIncrementalConcatenationAndSeededInit) {
    TaskHeads heads(8);
    heads->add_head(2, 11, torch::kCPU);
    heads->add_head(3, 12, torch::kCPU);
    EXPECT_EQ(heads->offset(1), 2);
    auto f = torch::randn({4, 8});
    auto all = heads->logits_upto(f, 1);
    EXPECT_EQ(all.sizes(), (std::vector<int64_t>{4, 5}));
    EXPECT_TRUE(torch::allclose(all.slice(1, 2, 5), heads->logits_of(f, 1)));
    TaskHeads again(8);
    again->add_head(2, 11, torch::kCPU);
    EXPECT_TRUE(torch::equal(again->head(0)->weight, heads->head(0)->weight)) << "same seed, same head";
}
