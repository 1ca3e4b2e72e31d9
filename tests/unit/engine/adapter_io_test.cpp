// Adapter files: AdapterSet save/load, PEFT export/import (exact folding of q/v and SD-LoRA terms),
// run checkpoints, and `lorica-cli inspect` on good and malformed files.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/temp_dir.h"
#include "engine/io/adapter_set.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"
#include "engine/io/timm_weights.h"
#include "engine/model/task_heads.h"
#include "engine/model/vit.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

LowRankTerm random_term(int64_t rank, int64_t in, int64_t rows, int64_t offset, double scale, const std::string& tag) {
    LowRankTerm t;
    t.A = torch::randn({rank, in}) * 0.2;
    t.B = torch::randn({rows, rank}) * 0.2;
    t.scale = scale;
    t.row_offset = offset;
    t.tag = tag;
    return t;
}

// A tiny ViT with: q and v terms (sequential LoRA style) on every qkv; SD-LoRA-style terms on every
// proj: two frozen directions with scale 1/‖BA‖_F and magnitudes shared across layers, plus a current
// term with its own magnitude.
VisionTransformer model_with_terms() {
    torch::manual_seed(7);
    VisionTransformer vit(ViTOptions().head_classes(5));
    auto alpha0 = torch::scalar_tensor(0.8), alpha1 = torch::scalar_tensor(1.3), alpha2 = torch::scalar_tensor(0.5);
    for (auto& [name, layer] : vit->lora_layers()) {
        if (name.find("attn.qkv") != std::string::npos) {
            for (int64_t offset : {0, 128}) {
                LowRankTerm t = random_term(4, 64, 64, offset, 2.0, "task0");
                t.task = 0;
                layer->add_term(t);
            }
        } else if (name.find("attn.proj") != std::string::npos) {
            int k = 0;
            for (auto& alpha : {alpha0, alpha1, alpha2}) {
                LowRankTerm t = random_term(3, 64, 64, 0, 1.0, "task" + std::to_string(k));
                t.task = k++;
                t.scale = 1.0 / t.B.matmul(t.A).norm().item<double>();
                t.magnitude = alpha;
                layer->add_term(t);
            }
        }
    }
    return vit;
}

VisionTransformer plain_copy(VisionTransformer& source) {
    VisionTransformer copy(source->options);
    torch::NoGradGuard no_grad;
    auto dst = copy->named_parameters();
    for (const auto& p : source->named_parameters()) dst[p.key()].copy_(p.value());
    return copy;
}

torch::Tensor logits(Backbone vit, const torch::Tensor& x) {
    torch::NoGradGuard no_grad;
    vit->eval();
    return vit->forward(x);
}

int run_cli(const std::string& args, const fs::path& output) {
    const std::string cmd = std::string(LORICA_CLI_PATH) + " " + args + " > " + output.string() + " 2>&1";
    const int status = std::system(cmd.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(AdapterSetIO, FromModelSharesMagnitudesAndSavesLosslessly) {
    TempDir dir("io-set");
    VisionTransformer vit = model_with_terms();
    AdapterSet set = AdapterSet::from_model(vit, "sd-lora");
    ASSERT_EQ(set.terms.size(), 3u * (2 + 3));
    EXPECT_EQ(set.magnitudes, (std::vector<double>{0.800000011920929, 1.2999999523162842, 0.5}));  // float32 values
    EXPECT_EQ(set.terms[2].magnitude_index, 0);
    EXPECT_EQ(set.terms[4].magnitude_index, 2);
    EXPECT_EQ(set.terms[7].magnitude_index, 0) << "block 1's first direction shares block 0's magnitude";
    EXPECT_EQ(set.terms[3].task, 1);
    set.terms[0].mask = set.terms[0].B.abs() > 0.1;
    set.meta["config_hash"] = "abc";

    save_adapter_set((dir.path / "set.safetensors").string(), set);
    AdapterSet back = load_adapter_set((dir.path / "set.safetensors").string());
    EXPECT_EQ(back.method, "sd-lora");
    EXPECT_EQ(back.magnitudes, set.magnitudes);
    EXPECT_EQ(back.meta["config_hash"], "abc");
    ASSERT_EQ(back.terms.size(), set.terms.size());
    for (size_t i = 0; i < set.terms.size(); ++i) {
        EXPECT_TRUE(torch::equal(back.terms[i].A, set.terms[i].A));
        EXPECT_TRUE(torch::equal(back.terms[i].B, set.terms[i].B));
        EXPECT_EQ(back.terms[i].scale, set.terms[i].scale);
        EXPECT_EQ(back.terms[i].row_offset, set.terms[i].row_offset);
        EXPECT_EQ(back.terms[i].module, set.terms[i].module);
    }
    ASSERT_TRUE(back.terms[0].mask.defined());
    EXPECT_TRUE(torch::equal(back.terms[0].mask, set.terms[0].mask));
    EXPECT_FALSE(back.terms[1].mask.defined());
    EXPECT_THROW(load_adapter_set("/nonexistent/set.safetensors"), SafetensorsError);
}

TEST(PeftExport, QAndVTermsBecomeOneQkvLoRAWithZeroKRows) {
    TempDir dir("io-qv");
    VisionTransformer vit = model_with_terms();
    AdapterSet set = AdapterSet::from_model(vit, "sequential-lora");
    export_peft_adapter(dir.path.string(), set);
    SafetensorsFile file = SafetensorsFile::open((dir.path / kPeftWeightsFile).string());
    const auto& a = file.tensor("base_model.model.blocks.0.attn.qkv.lora_A.weight");
    const auto& b = file.tensor("base_model.model.blocks.0.attn.qkv.lora_B.weight");
    EXPECT_EQ(a.shape, (std::vector<int64_t>{8, 64}));
    EXPECT_EQ(b.shape, (std::vector<int64_t>{192, 8}));
    torch::Tensor B = view_to_float_tensor(b), A = view_to_float_tensor(a);
    EXPECT_EQ(B.narrow(0, 64, 64).abs().max().item<float>(), 0.0f) << "k rows untouched";
    EXPECT_EQ(B.narrow(0, 0, 64).narrow(1, 4, 4).abs().max().item<float>(), 0.0f) << "q rows only from the q term";

    std::ifstream in(dir.path / kPeftConfigFile);
    nlohmann::json config = nlohmann::json::parse(in);
    EXPECT_EQ(config["peft_type"], "LORA");
    EXPECT_EQ(config["r"], 8);  // first module: qkv, rank 4 + 4
    EXPECT_DOUBLE_EQ(config["lora_alpha"].get<double>(), 16.0) << "uniform scale 2 kept as alpha / r";
    EXPECT_EQ(config["rank_pattern"]["blocks.0.attn.proj"], 9);
    EXPECT_DOUBLE_EQ(config["alpha_pattern"]["blocks.0.attn.proj"].get<double>(), 9.0)
        << "magnitudes folded into B: scaling 1";
    EXPECT_EQ(config["target_modules"].size(), 6u);

    // PEFT's ΔW = (alpha / r) B A equals the set's exact delta, for the qkv and the SD-LoRA proj.
    torch::Tensor peft_qkv = B.matmul(A) * 2.0;
    EXPECT_LT((peft_qkv - set.delta("blocks.0.attn.qkv")).abs().max().item<float>(), 1e-6);
    torch::Tensor pa = view_to_float_tensor(file.tensor("base_model.model.blocks.2.attn.proj.lora_A.weight"));
    torch::Tensor pb = view_to_float_tensor(file.tensor("base_model.model.blocks.2.attn.proj.lora_B.weight"));
    EXPECT_LT((pb.matmul(pa) - set.delta("blocks.2.attn.proj")).abs().max().item<float>(), 1e-6);
    // the set's delta is the live layer's
    auto layers = vit->lora_layers();
    torch::Tensor live = layers[1].second->merged_weight() - layers[1].second->weight.detach();
    EXPECT_LT((live - set.delta("blocks.0.attn.proj")).abs().max().item<float>(), 1e-6);
}

TEST(PeftExport, ExportImportRoundTripGivesIdenticalOutputs) {
    TempDir dir("io-roundtrip");
    VisionTransformer vit = model_with_terms();
    torch::Tensor x = torch::randn({4, 1, 28, 28});
    torch::Tensor expected = logits(vit, x);
    AdapterSet set = AdapterSet::from_model(vit, "sd-lora");
    export_peft_adapter(dir.path.string(), set);

    VisionTransformer lossless = plain_copy(vit);
    AdapterSet back = import_peft_adapter(dir.path.string());  // the Lorica sidecar
    EXPECT_EQ(back.terms.size(), set.terms.size());
    back.apply_to(lossless);
    EXPECT_LE((logits(lossless, x) - expected).abs().max().item<float>(), 1e-6);
    // shared magnitudes stay shared after import: one tensor in every proj layer
    auto layers = lossless->lora_layers();
    EXPECT_TRUE(layers[1].second->terms()[0].magnitude.is_same(layers[5].second->terms()[0].magnitude));

    VisionTransformer peft_only = plain_copy(vit);
    AdapterSet folded = import_peft_adapter(dir.path.string(), /*use_sidecar*/ false);
    EXPECT_EQ(folded.terms.size(), 6u) << "one LoRA per module";
    folded.apply_to(peft_only);
    EXPECT_LE((logits(peft_only, x) - expected).abs().max().item<float>(), 1e-5);

    VisionTransformer bare = plain_copy(vit);
    EXPECT_GT((logits(bare, x) - expected).abs().max().item<float>(), 1e-3) << "the adapters matter";
}

TEST(PeftImport, MalformedDirectoriesGiveErrorsNamingTheFile) {
    TempDir dir("io-bad");
    VisionTransformer vit = model_with_terms();
    export_peft_adapter(dir.path.string(), AdapterSet::from_model(vit, "x"), {"m", /*sidecar*/ false});
    nlohmann::json config;
    {
        std::ifstream in(dir.path / kPeftConfigFile);
        config = nlohmann::json::parse(in);
    }
    auto rewrite = [&](const nlohmann::json& c) { std::ofstream(dir.path / kPeftConfigFile) << c.dump(); };
    auto message = [&] {
        try {
            import_peft_adapter(dir.path.string());
        } catch (const std::exception& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    nlohmann::json wrong_r = config;
    wrong_r["rank_pattern"] = nlohmann::json::object();
    rewrite(wrong_r);
    EXPECT_NE(message().find("says r = 8"), std::string::npos) << message();
    nlohmann::json dora = config;
    dora["use_dora"] = true;
    rewrite(dora);
    EXPECT_NE(message().find("use_dora"), std::string::npos) << message();
    std::ofstream(dir.path / kPeftConfigFile) << "{ not json";
    EXPECT_NE(message().find("adapter_config.json: invalid JSON"), std::string::npos) << message();
    rewrite(config);
    fs::resize_file(dir.path / kPeftWeightsFile, fs::file_size(dir.path / kPeftWeightsFile) - 3);
    EXPECT_NE(message().find("adapter_model.safetensors"), std::string::npos) << message();
    EXPECT_THROW(export_peft_adapter((dir.path / "empty").string(), AdapterSet{}), std::invalid_argument);
}

TEST(RunCheckpoint, TaskCheckpointRoundTripAndBackboneReuse) {
    TempDir dir("io-ckpt");
    torch::manual_seed(3);
    VisionTransformer vit(ViTOptions().head_classes(3));
    TaskHeads heads(64);
    heads->add_head(2, 11, torch::kCPU);
    heads->add_head(3, 12, torch::kCPU);
    const std::string run_dir = (dir.path / "run").string();
    write_foundation_backbone(run_dir, vit);
    vit->lora_layers()[0].second->add_term(random_term(2, 64, 64, 0, 1.0, "task1"));
    AdapterSet set = AdapterSet::from_model(vit, "sequential-lora");
    ArtifactWritten a = write_task_checkpoint(run_dir, {1, "sequential-lora", "h", 0}, vit, heads, set);
    EXPECT_EQ(a.kind, kArtifactRunCheckpoint);
    EXPECT_EQ(nlohmann::json::parse(a.meta_json)["task"], 1);
    EXPECT_FALSE(fs::exists(fs::path(a.path) / "backbone.safetensors")) << "unchanged backbone is not written again";

    TaskCheckpoint cp = read_task_checkpoint(a.path);
    EXPECT_EQ(cp.head_weight.sizes(), (std::vector<int64_t>{5, 64}));
    EXPECT_TRUE(torch::equal(cp.head_weight.narrow(0, 2, 3), heads->head(1)->weight.detach()));
    EXPECT_EQ(cp.adapters.terms.size(), 1u);
    torch::Tensor x = torch::randn({2, 1, 28, 28});
    cp.adapters.apply_to(cp.model);
    EXPECT_LE((logits(cp.model, x) - logits(vit, x)).abs().max().item<float>(), 1e-6);

    {
        torch::NoGradGuard no_grad;
        vit->norm->weight.add_(0.5);  // full fine-tuning changed the backbone
    }
    ArtifactWritten b = write_task_checkpoint(run_dir, {2, "full-finetune", "h", 0}, vit, heads, AdapterSet{});
    EXPECT_TRUE(fs::exists(fs::path(b.path) / "backbone.safetensors"));
    TaskCheckpoint cp2 = read_task_checkpoint(b.path);
    EXPECT_TRUE(torch::equal(cp2.model->as<VisionTransformerImpl>()->norm->weight, vit->norm->weight.detach()));
    EXPECT_FALSE(torch::equal(cp2.foundation->as<VisionTransformerImpl>()->norm->weight, vit->norm->weight.detach()));
    EXPECT_THROW(read_task_checkpoint((dir.path / "nothing").string()), std::runtime_error);
}

TEST(InspectCommand, PrintsTensorsAndFailsOnMalformedFiles) {
    TempDir dir("io-inspect");
    VisionTransformer vit = model_with_terms();
    export_peft_adapter((dir.path / "adapter").string(), AdapterSet::from_model(vit, "sd-lora"));
    const fs::path out = dir.path / "out.txt";
    ASSERT_EQ(run_cli("inspect " + (dir.path / "adapter" / kPeftWeightsFile).string(), out), 0) << slurp(out);
    EXPECT_NE(slurp(out).find("base_model.model.blocks.0.attn.qkv.lora_B.weight"), std::string::npos) << slurp(out);
    EXPECT_NE(slurp(out).find("[192, 8]"), std::string::npos) << slurp(out);
    ASSERT_EQ(run_cli("inspect " + (dir.path / "adapter").string(), out), 0) << slurp(out);
    EXPECT_NE(slurp(out).find("magnitudes"), std::string::npos) << slurp(out);
    EXPECT_NE(slurp(out).find("blocks.2.attn.proj"), std::string::npos) << slurp(out);

    std::ofstream(dir.path / "bad.safetensors") << "\x10\x00\x00\x00\x00\x00\x00\x00{\"a\": 1}";
    EXPECT_EQ(run_cli("inspect " + (dir.path / "bad.safetensors").string(), out), 2);
    EXPECT_NE(slurp(out).find("bad.safetensors"), std::string::npos) << slurp(out);
    EXPECT_EQ(run_cli("inspect " + (dir.path / "missing.safetensors").string(), out), 2);
    EXPECT_NE(slurp(out).find("no such file"), std::string::npos) << slurp(out);
}
