// The Lorica half of tests/interop/check_timm_resnet.py: loads a timm ResNet written by timm itself,
// adds conv LoRA terms and exports them as a PEFT adapter.
//
//   lorica_interop_resnet_export DIR ARCH          ARCH = resnet18 | resnet50
//
// Reads   DIR/base_model.safetensors   timm.create_model(ARCH).state_dict() (parameters and BatchNorm
//                                      buffers, fc = 1000 classes), loaded by name with every shape checked
//         DIR/input.safetensors        x [N, 3, H, W]
// Writes  DIR/adapter_config.json, adapter_model.safetensors (PEFT LoRA: lora_A [r, C, k, k],
//         lora_B [out, r, 1, 1]) for terms on every conv3 (resnet50: the paper's 1×1 sites), on
//         layer1.0.conv2 and layer2.0.conv2 (3×3, stride 1 and 2) and layer2.0.downsample.0 (1×1 / 2);
//         resnet18: every conv1 / conv2 of layer1 and layer2 and layer2.0.downsample.0
//         DIR/io.safetensors           logits_base [N, 1000] (eval mode, no terms), logits (with terms)
#include <cstdio>
#include <filesystem>
#include <string>

#include <torch/torch.h>

#include "engine/io/adapter_set.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"
#include "engine/io/timm_weights.h"
#include "engine/model/resnet.h"

using namespace lorica;

namespace {

bool adapted_in_resnet_interop(const std::string& arch, const std::string& name) {
    if (arch == "resnet50")
        return name.ends_with(".conv3") || name == "layer1.0.conv2" || name == "layer2.0.conv2" ||
               name == "layer2.0.downsample.0";
    return name.starts_with("layer1.") || name.starts_with("layer2.");
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s DIR resnet18|resnet50\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    const std::string arch = argv[2];
    torch::manual_seed(2025);
    ResNet model(ResNetOptions::preset(arch).head_classes(1000));
    Backbone backbone(std::shared_ptr<BackboneImpl>(model.ptr()));
    const TimmLoadReport report = load_timm_weights(backbone, (dir / "base_model.safetensors").string());
    const torch::Tensor x =
        view_to_float_tensor(SafetensorsFile::open((dir / "input.safetensors").string()).tensor("x"));
    model->eval();
    torch::Tensor logits_base, logits;
    {
        torch::NoGradGuard no_grad;
        logits_base = model->forward(x);
    }
    int sites = 0;
    for (auto& [name, layer] : model->lora_layers()) {
        if (!adapted_in_resnet_interop(arch, name)) continue;
        const int64_t rank = 4;
        LowRankTerm t = LowRankTerm::lora(rank, layer->options.in_features(), layer->options.out_features(), 0,
                                          /*scale = alpha / r*/ 2.0, "interop");
        {
            torch::NoGradGuard no_grad;
            t.B.normal_(0.0, 0.05);
        }
        layer->add_term(t);
        ++sites;
    }
    {
        torch::NoGradGuard no_grad;
        logits = model->forward(x);
    }
    export_peft_adapter(dir.string(), AdapterSet::from_model(backbone, "lora"),
                        PeftExportOptions{"timm/" + arch, false});
    save_tensors((dir / "io.safetensors").string(), {{"logits_base", logits_base}, {"logits", logits}});
    std::printf("%s: loaded %zu tensors, %d conv LoRA sites; the adapter moves the logits by up to %.4f\n",
                arch.c_str(), report.loaded.size(), sites, (logits - logits_base).abs().max().item<double>());
    return 0;
}
