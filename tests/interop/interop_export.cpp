// Writes what tests/interop/check_timm_peft.py compares against timm + PEFT:
//   <dir>/base_model.safetensors     a tiny ViT (random weights, timm names, head = 7 classes)
//   <dir>/adapter_config.json, adapter_model.safetensors, lorica_adapter.safetensors
//                                    its adapter terms as a PEFT LoRA directory: q and v terms on every
//                                    fused qkv; SD-LoRA-style directions with shared magnitudes on
//                                    every attn.proj; a LoRI-style term (B with 90% zeros) on mlp.fc1
//   <dir>/lorica_export.json         timm VisionTransformer arguments
//   <dir>/io.safetensors             x [8, 1, 28, 28], logits_base [8, 7] (no adapter), logits [8, 7]
//
//   lorica_interop_export DIR
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "engine/io/adapter_set.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/tensor_io.h"
#include "engine/io/timm_weights.h"
#include "engine/model/vit.h"

using namespace lorica;

namespace {

LowRankTerm term(int64_t rank, int64_t in, int64_t rows, int64_t offset, double scale, const std::string& tag) {
    LowRankTerm t;
    t.A = torch::randn({rank, in}) * 0.3;
    t.B = torch::randn({rows, rank}) * 0.3;
    t.scale = scale;
    t.row_offset = offset;
    t.tag = tag;
    return t;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    torch::manual_seed(2024);
    VisionTransformer vit(ViTOptions().head_classes(7));
    {
        // Random weights of a realistic scale everywhere (the default init leaves biases and norms trivial).
        torch::NoGradGuard no_grad;
        for (auto& p : vit->parameters()) p.add_(torch::randn_like(p) * 0.05);
    }
    torch::Tensor x = torch::randn({8, 1, 28, 28});
    vit->eval();
    torch::Tensor logits_base;
    {
        torch::NoGradGuard no_grad;
        logits_base = vit->forward(x);
    }
    auto alpha0 = torch::scalar_tensor(0.8), alpha1 = torch::scalar_tensor(1.4);
    for (auto& [name, layer] : vit->lora_layers()) {
        if (name.ends_with("attn.qkv")) {
            layer->add_term(term(4, 64, 64, 0, 1.0, "task0"));    // q
            layer->add_term(term(4, 64, 64, 128, 1.0, "task0"));  // v
        } else if (name.ends_with("attn.proj")) {
            int k = 0;
            for (auto& alpha : {alpha0, alpha1}) {
                LowRankTerm t = term(3, 64, 64, 0, 1.0, "task" + std::to_string(k++));
                t.scale = 1.0 / t.B.matmul(t.A).norm().item<double>();
                t.magnitude = alpha;
                layer->add_term(t);
            }
        } else if (name.ends_with("mlp.fc1")) {
            LowRankTerm t = term(4, 64, 256, 0, 2.0, "task1");
            t.B = t.B * (torch::rand_like(t.B) < 0.1).to(torch::kFloat32);
            layer->add_term(t);
        }
    }
    torch::Tensor logits;
    {
        torch::NoGradGuard no_grad;
        logits = vit->forward(x);
    }
    AdapterSet set = AdapterSet::from_model(vit, "interop");
    export_peft_adapter(dir.string(), set, PeftExportOptions{"lorica/vit-tiny-patch7-28", true});
    save_timm_weights((dir / "base_model.safetensors").string(), vit);
    save_tensors((dir / "io.safetensors").string(), {{"x", x}, {"logits_base", logits_base}, {"logits", logits}});
    nlohmann::json info = {{"timm",
                            {{"img_size", 28},
                             {"patch_size", 7},
                             {"in_chans", 1},
                             {"embed_dim", 64},
                             {"depth", 3},
                             {"num_heads", 4},
                             {"mlp_ratio", 4.0},
                             {"num_classes", 7},
                             {"class_token", true},
                             {"global_pool", "token"}}}};
    std::ofstream(dir / "lorica_export.json") << info.dump(2) << "\n";
    std::printf("wrote %s (logits change by %.4f with the adapter)\n", dir.c_str(),
                (logits - logits_base).abs().max().item<double>());
    return 0;
}
