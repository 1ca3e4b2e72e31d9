// timm-layout ViT weights: round trip, shape checks with hints, head handling, pos-embed resampling.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "tests/support/temp_dir.h"
#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"
#include "engine/io/timm_weights.h"
#include "engine/model/vit.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

std::string error_of(VisionTransformer& vit, const std::string& path, TimmLoadOptions options = {}) {
    try {
        load_timm_weights(vit, path, options);
    } catch (const WeightsError& e) {
        return e.what();
    }
    return "no error";
}

// Rewrites a file with one tensor dropped, renamed or replaced.
void rewrite(const std::string& from, const std::string& to, const std::string& drop, const std::string& add = "",
             torch::Tensor add_value = {}) {
    SafetensorsFile file = SafetensorsFile::open(from);
    std::vector<TensorData> tensors;
    for (const auto& v : file.tensors())
        if (v.name != drop) tensors.push_back(TensorData::from_view(v));
    if (!add.empty()) tensors.push_back(tensor_to_data(add, add_value));
    write_safetensors(to, tensors);
}

}  // namespace

TEST(TimmWeights, SaveLoadRoundTripGivesTheSameModel) {
    TempDir dir("timm-roundtrip");
    torch::manual_seed(1);
    VisionTransformer a(ViTOptions().head_classes(5)), b(ViTOptions().head_classes(5));
    const std::string path = (dir.path / "vit.safetensors").string();
    save_timm_weights(path, a);
    TimmLoadReport report = load_timm_weights(b, path);
    EXPECT_EQ(report.loaded.size(), a->named_parameters().size());
    EXPECT_TRUE(report.notes.empty());
    torch::Tensor x = torch::randn({2, 1, 28, 28});
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
    ViTOptions inferred = infer_vit_options(path);
    EXPECT_EQ(inferred.dim(), 64);
    EXPECT_EQ(inferred.depth(), 3);
    EXPECT_EQ(inferred.patch_size(), 7);
    EXPECT_EQ(inferred.image_size(), 28);
    EXPECT_EQ(inferred.head_classes(), 5);
}

TEST(TimmWeights, WrongSizesMissingAndUnexpectedKeysAreNamed) {
    TempDir dir("timm-errors");
    VisionTransformer small(ViTOptions().dim(32).heads(2).depth(2));
    const std::string path = (dir.path / "small.safetensors").string();
    save_timm_weights(path, small);
    VisionTransformer tiny{ViTOptions()};
    const torch::Tensor before = tiny->cls_token.detach().clone();
    std::string e = error_of(tiny, path);
    EXPECT_NE(e.find("wrong size"), std::string::npos) << e;
    EXPECT_NE(e.find("cls_token: file [1, 1, 32], model [1, 1, 64]"), std::string::npos) << e;
    EXPECT_NE(e.find("dim 32, patch 7, depth 2"), std::string::npos) << e;
    EXPECT_NE(e.find("hint"), std::string::npos) << e;
    EXPECT_TRUE(torch::equal(tiny->cls_token, before)) << "nothing copied on error";

    // A ViT-B/16-shaped header names the likely model (only shapes matter: a small fake file).
    const std::string base_path = (dir.path / "base.safetensors").string();
    save_tensors(base_path, {{"cls_token", torch::zeros({1, 1, 768})},
                             {"pos_embed", torch::zeros({1, 197, 768})},
                             {"patch_embed.proj.weight", torch::zeros({768, 3, 16, 16})},
                             {"blocks.11.norm1.weight", torch::ones({768})}});
    e = error_of(tiny, base_path);
    EXPECT_NE(e.find("is this a ViT-B/16 file?"), std::string::npos) << e;

    const std::string good = (dir.path / "tiny.safetensors").string();
    save_timm_weights(good, tiny);
    rewrite(good, (dir.path / "missing.safetensors").string(), "blocks.1.mlp.fc2.weight");
    e = error_of(tiny, (dir.path / "missing.safetensors").string());
    EXPECT_NE(e.find("missing keys: blocks.1.mlp.fc2.weight"), std::string::npos) << e;
    rewrite(good, (dir.path / "extra.safetensors").string(), "", "fc_norm.weight", torch::ones({64}));
    e = error_of(tiny, (dir.path / "extra.safetensors").string());
    EXPECT_NE(e.find("unexpected keys: fc_norm.weight"), std::string::npos) << e;
    std::ofstream(dir.path / "junk.safetensors") << "junk";
    e = error_of(tiny, (dir.path / "junk.safetensors").string());
    EXPECT_NE(e.find("junk.safetensors"), std::string::npos) << e;
}

TEST(TimmWeights, HeadIsOptionalAndSkippedWhenClassesDiffer) {
    TempDir dir("timm-head");
    VisionTransformer imagenet(ViTOptions().head_classes(10));
    const std::string path = (dir.path / "h10.safetensors").string();
    save_timm_weights(path, imagenet);
    VisionTransformer five(ViTOptions().head_classes(5));
    const torch::Tensor head_before = five->head->weight.detach().clone();
    TimmLoadReport r = load_timm_weights(five, path);
    ASSERT_EQ(r.notes.size(), 2u);
    EXPECT_NE(r.notes[0].find("head.weight [10, 64] skipped"), std::string::npos) << r.notes[0];
    EXPECT_TRUE(torch::equal(five->head->weight, head_before));
    EXPECT_TRUE(torch::equal(five->norm->weight, imagenet->norm->weight));

    VisionTransformer headless{ViTOptions()};
    r = load_timm_weights(headless, path);
    EXPECT_EQ(r.notes.size(), 2u) << "head.weight and head.bias skipped: the model has no head";
    const std::string no_head = (dir.path / "nohead.safetensors").string();
    save_timm_weights(no_head, headless);
    r = load_timm_weights(five, no_head);
    EXPECT_EQ(r.notes.size(), 2u);
    EXPECT_NE(r.notes[0].find("keeps its initialisation"), std::string::npos);
}

TEST(TimmWeights, PosEmbedOfAnotherGridIsResampled) {
    TempDir dir("timm-pos");
    VisionTransformer small_grid(ViTOptions().image_size(14));  // 2×2 patches
    {
        torch::NoGradGuard no_grad;
        small_grid->pos_embed.fill_(0.25);
        small_grid->pos_embed.narrow(1, 0, 1).fill_(-3.0);
    }
    const std::string path = (dir.path / "grid2.safetensors").string();
    save_timm_weights(path, small_grid);
    VisionTransformer vit{ViTOptions()};  // 4×4 patches
    TimmLoadReport r = load_timm_weights(vit, path);
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("resampled"), std::string::npos);
    EXPECT_EQ(vit->pos_embed.sizes(), (std::vector<int64_t>{1, 17, 64}));
    EXPECT_FLOAT_EQ(vit->pos_embed[0][0][5].item<float>(), -3.0f) << "class-token row kept";
    EXPECT_LT((vit->pos_embed.narrow(1, 1, 16) - 0.25).abs().max().item<float>(), 1e-6)
        << "a constant grid stays constant";
    std::string e = error_of(vit, path, TimmLoadOptions{false, true});
    EXPECT_NE(e.find("pos_embed: file [1, 5, 64], model [1, 17, 64]"), std::string::npos) << e;
}

TEST(TimmWeights, HalfPrecisionFilesLoadAsFloat32) {
    TempDir dir("timm-bf16");
    VisionTransformer a{ViTOptions()};
    std::vector<TensorData> tensors;
    for (const auto& p : a->named_parameters()) {
        torch::Tensor v = p.value().detach().contiguous();
        std::vector<float> values(v.data_ptr<float>(), v.data_ptr<float>() + v.numel());
        tensors.push_back(TensorData::from_floats(p.key(), v.sizes().vec(), values, Dtype::BF16));
    }
    write_safetensors((dir.path / "bf16.safetensors").string(), tensors);
    VisionTransformer b{ViTOptions()};
    load_timm_weights(b, (dir.path / "bf16.safetensors").string());
    const torch::Tensor w = a->blocks[0]->as<BlockImpl>()->attn->qkv->weight.detach();
    const torch::Tensor got = b->blocks[0]->as<BlockImpl>()->attn->qkv->weight.detach();
    EXPECT_TRUE(torch::equal(got, w.to(torch::kBFloat16).to(torch::kFloat32)));
}
