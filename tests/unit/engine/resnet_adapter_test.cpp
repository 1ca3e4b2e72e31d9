// Adapters on ResNets: the target shorthands over timm's names, the errors for the other family's
// targets, the head and ranks above a conv's channels; conv terms through the PEFT directory and back;
// timm weights (parameters and BatchNorm statistics) written and read back.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/io/adapter_set.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/run_checkpoint.h"
#include "engine/io/safetensors.h"
#include "engine/io/timm_weights.h"
#include "engine/model/adapter_targets.h"
#include "engine/model/resnet.h"
#include "engine/model/vit.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::TempDir;

namespace {

Backbone resnet_backbone(const std::string& preset, int64_t head_classes = 0) {
    return Backbone(ResNet(ResNetOptions::preset(preset).head_classes(head_classes)).ptr());
}

std::vector<std::string> site_names(const std::vector<AdapterSite>& sites) {
    std::vector<std::string> out;
    for (const auto& s : sites) out.push_back(s.name());
    return out;
}

std::string invalid_argument_of(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    ADD_FAILURE() << "no std::invalid_argument";
    return "";
}

}  // namespace

TEST(ResNetTargets, ShorthandsNameTimmSites) {
    Backbone r50 = resnet_backbone("resnet50");
    const auto conv3 = resolve_adapter_sites(r50, {"conv3"});
    ASSERT_EQ(conv3.size(), 16u);
    EXPECT_EQ(conv3.front().name(), "layer1.0.conv3");
    EXPECT_EQ(conv3.back().name(), "layer4.2.conv3");
    EXPECT_EQ(conv3.front().in, 64);  // a 1×1 conv 64 → 256: in = C·1·1
    EXPECT_EQ(conv3.front().rows, 256);
    EXPECT_EQ(site_names(resolve_adapter_sites(r50, {"layer*.*.conv3"})), site_names(conv3)) << "the study's pattern";
    EXPECT_EQ(resolve_adapter_sites(r50, {"downsample"}).size(), 4u);
    EXPECT_EQ(resolve_adapter_sites(r50, {"downsample"}).front().name(), "layer1.0.downsample.0");
    const auto conv2 = resolve_adapter_sites(r50, {"conv2"});
    EXPECT_EQ(conv2.front().in, 64 * 9);  // 3×3: in = C·k·k
    EXPECT_EQ(site_names(resolve_adapter_sites(r50, {"stem"})), std::vector<std::string>{"conv1"});
    EXPECT_EQ(resolve_adapter_sites(r50, {"conv1"}).front().name(), "layer1.0.conv1") << "blocks only, not the stem";
    EXPECT_EQ(resolve_adapter_sites(r50, {"all-conv"}).size(), 16u * 3 + 4);
}

TEST(ResNetTargets, OtherFamilyTargetsAndTheHeadAreRefusedByName) {
    Backbone tiny = resnet_backbone("tiny-resnet", 5);
    std::string e = invalid_argument_of([&] { (void)resolve_adapter_sites(tiny, {"q", "v"}); });
    EXPECT_NE(e.find("'q'"), std::string::npos) << e;
    EXPECT_NE(e.find("resnet"), std::string::npos) << e;
    e = invalid_argument_of([&] { (void)resolve_adapter_sites(tiny, {"blocks.*.attn.qkv"}); });
    EXPECT_NE(e.find("resnet"), std::string::npos) << e;
    e = invalid_argument_of([&] { (void)resolve_adapter_sites(tiny, {"fc"}); });
    EXPECT_NE(e.find("foundation"), std::string::npos) << e;
    e = invalid_argument_of([&] { (void)resolve_adapter_sites(tiny, {"conv3"}); });  // basic blocks have none
    EXPECT_NE(e.find("matches no layer"), std::string::npos) << e;

    Backbone vit(VisionTransformer(ViTOptions()).ptr());
    e = invalid_argument_of([&] { (void)resolve_adapter_sites(vit, {"conv3"}); });
    EXPECT_NE(e.find("'conv3'"), std::string::npos) << e;
    EXPECT_NE(e.find("vit"), std::string::npos) << e;
    EXPECT_EQ(resolve_adapter_sites(vit, {"q", "v"}).size(), 6u) << "ViT targets unchanged";
}

TEST(ResNetTargets, ConvRankIsAtMostItsChannels) {
    Backbone tiny = resnet_backbone("tiny-resnet");
    const auto sites = resolve_adapter_sites(tiny, {"conv1", "conv2"});
    EXPECT_NO_THROW(check_adapter_rank(sites, 16));
    const std::string e = invalid_argument_of([&] { check_adapter_rank(sites, 17); });
    EXPECT_NE(e.find("method.rank 17"), std::string::npos) << e;
    EXPECT_NE(e.find("layer1.0.conv1"), std::string::npos) << e;
    // Linear layers are not limited here (a ViT's rank check is the methods' own).
    Backbone vit(VisionTransformer(ViTOptions()).ptr());
    EXPECT_NO_THROW(check_adapter_rank(resolve_adapter_sites(vit, {"q"}), 100));
}

TEST(ResNetAdapters, ConvTermsRoundTripThroughPeft) {
    TempDir dir("resnet-peft");
    torch::manual_seed(9);
    Backbone model = resnet_backbone("tiny-resnet", 3);
    model->eval();
    for (AdapterSite site : resolve_adapter_sites(model, {"conv2", "downsample"})) {
        LowRankTerm t = LowRankTerm::lora(3, site.in, site.rows, 0, 2.0, "peft-test");
        torch::NoGradGuard no_grad;
        t.B.normal_(0.0, 0.1);
        site.layer->add_term(t);
    }
    const auto x = torch::randn({2, 1, 28, 28});
    torch::NoGradGuard no_grad;
    const auto adapted = model->forward(x);
    export_peft_adapter(dir.path.string(), AdapterSet::from_model(model, "sequential-lora"));
    const SafetensorsFile file = SafetensorsFile::open((dir.path / kPeftWeightsFile).string());
    EXPECT_EQ(file.tensor("base_model.model.layer1.0.conv2.lora_A.weight").shape, (std::vector<int64_t>{3, 16, 3, 3}));
    EXPECT_EQ(file.tensor("base_model.model.layer1.0.conv2.lora_B.weight").shape, (std::vector<int64_t>{16, 3, 1, 1}));
    EXPECT_EQ(file.tensor("base_model.model.layer2.0.downsample.0.lora_A.weight").shape,
              (std::vector<int64_t>{3, 16, 1, 1}));
    for (bool sidecar : {true, false}) {
        const AdapterSet back = import_peft_adapter(dir.path.string(), sidecar);
        EXPECT_EQ(back.terms.front().kernel_size, 3) << "sidecar " << sidecar;
        for (auto& [name, layer] : model->lora_layers()) layer->clear_terms();
        back.apply_to(model);
        EXPECT_TRUE(torch::allclose(model->forward(x), adapted, 1e-5, 1e-5)) << "sidecar " << sidecar;
    }
}

TEST(ResNetAdapters, TimmWeightsRoundTripWithBatchNormStatistics) {
    TempDir dir("resnet-weights");
    torch::manual_seed(10);
    Backbone a = resnet_backbone("resnet18", 1000);
    {
        torch::NoGradGuard no_grad;
        for (auto& b : a->named_buffers())
            if (b.key().ends_with("running_var")) b.value().uniform_(0.5, 2.0);
        for (auto& p : a->parameters()) p.add_(torch::randn_like(p) * 0.01);
    }
    const std::string path = (dir.path / "resnet18.safetensors").string();
    save_timm_weights(path, a);
    const SafetensorsFile file = SafetensorsFile::open(path);
    EXPECT_TRUE(file.contains("layer1.0.bn1.running_var"));
    EXPECT_TRUE(file.contains("fc.weight"));
    Backbone b = resnet_backbone("resnet18", 1000);
    const TimmLoadReport report = load_timm_weights(b, path);
    EXPECT_EQ(report.loaded.size(), 122u);  // every parameter and buffer, timm's count
    a->eval(), b->eval();
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({1, 3, 64, 64});
    EXPECT_TRUE(torch::equal(a->forward(x), b->forward(x)));
    // A resnet18 file into a resnet50: refused before anything is copied, naming tensors.
    Backbone c = resnet_backbone("resnet50", 1000);
    const auto before = c->named_parameters()["conv1.weight"].clone();
    try {
        (void)load_timm_weights(c, path);
        ADD_FAILURE() << "a resnet18 file loaded into a resnet50";
    } catch (const WeightsError& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("layer1.0.conv1.weight"), std::string::npos) << what;
        EXPECT_NE(what.find("backbone.preset = resnet18"), std::string::npos) << what;
    }
    EXPECT_TRUE(torch::equal(c->named_parameters()["conv1.weight"], before));
}

TEST(ResNetAdapters, RunCheckpointRebuildsTheResnetWithItsStatisticsAndTerms) {
    TempDir dir("resnet-checkpoint");
    torch::manual_seed(12);
    Backbone model = resnet_backbone("tiny-resnet", 4);
    {
        torch::NoGradGuard no_grad;
        for (auto& b : model->named_buffers())
            if (b.key().ends_with("running_mean")) b.value().normal_(0.0, 0.2);
    }
    write_foundation_backbone(dir.path.string(), model);
    for (AdapterSite site : resolve_adapter_sites(model, {"conv2"})) {
        LowRankTerm t = LowRankTerm::lora(2, site.in, site.rows, 0, 1.0, "task0");
        torch::NoGradGuard no_grad;
        t.B.normal_(0.0, 0.1);
        site.layer->add_term(t);
    }
    TaskHeads heads(model->feature_dim());
    heads->add_head(2, 1, torch::kCPU);
    const ArtifactWritten written =
        write_task_checkpoint(dir.path.string(), TaskCheckpointInfo{0, "sequential-lora", "hash", 7}, model, heads,
                              AdapterSet::from_model(model, "sequential-lora"));
    TaskCheckpoint back = read_task_checkpoint((dir.path / "task_0").string());
    ASSERT_NE(back.model->as<ResNetImpl>(), nullptr);
    EXPECT_EQ(back.model->description(), model->description());
    back.adapters.apply_to(back.model);
    model->eval(), back.model->eval();
    torch::NoGradGuard no_grad;
    const auto x = torch::randn({2, 1, 28, 28});
    EXPECT_TRUE(torch::allclose(back.model->forward(x), model->forward(x), 1e-6, 1e-6));
    (void)written;
}

TEST(ResNetTargets, ConfigAcceptsEveryResnetShorthand) {
    nlohmann::json doc = {{"backbone", {{"preset", "resnet50"}}},
                          {"method", {{"targets", {"conv1", "conv2", "conv3", "downsample", "all-conv", "stem"}}}}};
    const ExperimentConfig config = parse_experiment_config(doc);
    EXPECT_EQ(config.backbone.family, BackboneFamily::resnet);
    Backbone model = resnet_backbone("resnet50");
    EXPECT_EQ(resolve_adapter_sites(model, config.method.targets).size(), 1u + 16 * 3 + 4) << "stem + all convs";
}
