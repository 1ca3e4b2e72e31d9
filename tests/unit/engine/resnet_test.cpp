// ResNet backbones: timm's names and shapes (counts from timm 1.0's resnet18 / resnet50 state dicts),
// the tiny default, BatchNorm freezing, descriptions, and conv LoRA through the whole network.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/model/backbone_factory.h"
#include "engine/model/resnet.h"

using namespace lorica;

namespace {

std::map<std::string, std::vector<int64_t>> resnet_state_shapes(ResNet& model) {
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto& p : model->named_parameters()) shapes[p.key()] = p.value().sizes().vec();
    for (const auto& b : model->named_buffers()) shapes[b.key()] = b.value().sizes().vec();
    return shapes;
}

int64_t resnet_state_elements(ResNet& model) {
    int64_t total = 0;
    for (const auto& p : model->named_parameters()) total += p.value().numel();
    for (const auto& b : model->named_buffers()) total += b.value().numel();
    return total;
}

}  // namespace

TEST(ResNet, Resnet18HasTimmNamesAndShapes) {
    ResNet model(ResNetOptions::preset("resnet18").head_classes(1000));
    auto shapes = resnet_state_shapes(model);
    // timm.create_model("resnet18").state_dict(): 122 entries, 11,699,132 elements.
    EXPECT_EQ(shapes.size(), 122u);
    EXPECT_EQ(resnet_state_elements(model), 11699132);
    EXPECT_EQ(shapes.at("conv1.weight"), (std::vector<int64_t>{64, 3, 7, 7}));
    EXPECT_EQ(shapes.at("bn1.running_var"), (std::vector<int64_t>{64}));
    EXPECT_EQ(shapes.at("bn1.num_batches_tracked"), (std::vector<int64_t>{}));
    EXPECT_EQ(shapes.at("layer1.0.conv1.weight"), (std::vector<int64_t>{64, 64, 3, 3}));
    EXPECT_EQ(shapes.at("layer4.0.downsample.0.weight"), (std::vector<int64_t>{512, 256, 1, 1}));
    EXPECT_EQ(shapes.at("layer4.0.downsample.1.running_mean"), (std::vector<int64_t>{512}));
    EXPECT_EQ(shapes.at("fc.weight"), (std::vector<int64_t>{1000, 512}));
    EXPECT_FALSE(shapes.count("layer1.0.downsample.0.weight"));
    EXPECT_FALSE(shapes.count("layer1.0.conv3.weight"));
    EXPECT_EQ(model->head_name(), "fc");
    EXPECT_EQ(model->feature_dim(), 512);
    auto layers = model->lora_layers();
    ASSERT_EQ(layers.size(), 1u + 8 * 2 + 3);  // stem, 8 blocks × 2 convs, 3 downsamples
    EXPECT_EQ(layers[0].first, "conv1");
    EXPECT_EQ(layers[1].first, "layer1.0.conv1");
    EXPECT_EQ(layers.back().first, "layer4.1.conv2");
}

TEST(ResNet, Resnet50HasTimmNamesAndShapes) {
    ResNet model(ResNetOptions::preset("resnet50").head_classes(1000));
    auto shapes = resnet_state_shapes(model);
    // timm.create_model("resnet50").state_dict(): 320 entries, 25,610,205 elements (25,557,032 parameters).
    EXPECT_EQ(shapes.size(), 320u);
    EXPECT_EQ(resnet_state_elements(model), 25610205);
    int64_t parameters = 0;
    for (const auto& p : model->parameters()) parameters += p.numel();
    EXPECT_EQ(parameters, 25557032);
    EXPECT_EQ(shapes.at("layer1.0.conv1.weight"), (std::vector<int64_t>{64, 64, 1, 1}));
    EXPECT_EQ(shapes.at("layer1.0.conv3.weight"), (std::vector<int64_t>{256, 64, 1, 1}));
    EXPECT_EQ(shapes.at("layer2.0.conv2.weight"), (std::vector<int64_t>{128, 128, 3, 3}));
    EXPECT_EQ(shapes.at("layer1.0.downsample.0.weight"), (std::vector<int64_t>{256, 64, 1, 1}));
    EXPECT_EQ(shapes.at("layer4.2.bn3.bias"), (std::vector<int64_t>{2048}));
    EXPECT_EQ(shapes.at("fc.weight"), (std::vector<int64_t>{1000, 2048}));
    EXPECT_EQ(model->feature_dim(), 2048);
    int conv3 = 0;
    for (const auto& [name, layer] : model->lora_layers())
        if (name.size() > 6 && name.compare(name.size() - 6, 6, ".conv3") == 0) ++conv3;
    EXPECT_EQ(conv3, 16);  // one per bottleneck: 3 + 4 + 6 + 3
    // Stride on conv2 (timm), not conv1: layer2.0 halves the resolution in its 3×3 conv.
    auto* block = model->stages[1]->ptr(0)->as<ResNetBlockImpl>();
    EXPECT_EQ(block->conv1->options.stride(), 1);
    EXPECT_EQ(block->conv2->options.stride(), 2);
    EXPECT_EQ(block->downsample_conv->options.stride(), 2);
    torch::NoGradGuard no_grad;
    model->eval();
    EXPECT_EQ(model->features(torch::randn({1, 3, 64, 64})).sizes(), (std::vector<int64_t>{1, 2048}));
}

TEST(ResNet, TinyResnetIsTheDefaultsSize) {
    BackboneConfig config = backbone_preset("tiny-resnet");
    ASSERT_EQ(config.family, BackboneFamily::resnet);
    Backbone model = make_backbone(config, 5);
    ASSERT_NE(model->as<ResNetImpl>(), nullptr);
    EXPECT_EQ(model->feature_dim(), 64);
    EXPECT_EQ(model->head_name(), "fc");
    auto images = torch::randn({4, 1, 28, 28});
    EXPECT_EQ(model->features(images).sizes(), (std::vector<int64_t>{4, 64}));
    EXPECT_EQ(model->as<ResNetImpl>()->conv1->options.stride(), 2);
    EXPECT_EQ(model->forward(images).sizes(), (std::vector<int64_t>{4, 5}));
    std::vector<std::string> names;
    for (const auto& [name, layer] : model->lora_layers()) names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"conv1", "layer1.0.conv1", "layer1.0.conv2", "layer2.0.conv1",
                                               "layer2.0.conv2", "layer2.0.downsample.0", "layer3.0.conv1",
                                               "layer3.0.conv2", "layer3.0.downsample.0"}));
    // backbone_parameters: everything but fc
    int64_t all = 0, backbone = 0;
    for (const auto& p : model->parameters()) all += p.numel();
    for (const auto& p : model->backbone_parameters()) backbone += p.numel();
    EXPECT_EQ(all - backbone, 5 * 64 + 5);
}

TEST(ResNet, FrozenBatchNormKeepsStatisticsUnderTrain) {
    for (bool frozen : {true, false}) {
        torch::manual_seed(2);
        ResNet model(ResNetOptions::preset("tiny-resnet").head_classes(3).freeze_batchnorm(frozen));
        model->train();
        EXPECT_TRUE(model->is_training());
        EXPECT_EQ(model->bn1->is_training(), !frozen);
        const torch::Tensor mean_before = model->bn1->running_mean.clone();
        const torch::Tensor logits = model->forward(torch::randn({8, 1, 28, 28}) * 3 + 1);
        EXPECT_EQ(torch::equal(model->bn1->running_mean, mean_before), frozen) << "frozen " << frozen;
        // Frozen: the training forward is the eval forward (running statistics, no batch statistics).
        if (frozen) {
            torch::manual_seed(4);
            auto x = torch::randn({4, 1, 28, 28});
            auto train_out = model->forward(x).detach();
            model->eval();
            EXPECT_TRUE(torch::allclose(model->forward(x), train_out, 1e-6, 1e-6));
        }
    }
    // Released and frozen again at run time (the foundation step trains the statistics).
    ResNet model(ResNetOptions::preset("tiny-resnet"));
    model->train();
    model->set_batchnorm_frozen(false);
    EXPECT_TRUE(model->bn1->is_training());
    model->set_batchnorm_frozen(true);
    EXPECT_FALSE(model->bn1->is_training());
    EXPECT_TRUE(model->is_training());
    model->eval();
    model->set_batchnorm_frozen(false);
    EXPECT_FALSE(model->bn1->is_training()) << "releasing BatchNorm never switches an eval model to training";
}

TEST(ResNet, DescriptionRebuildsTheSameArchitecture) {
    ResNet model(ResNetOptions::preset("resnet50").head_classes(7).freeze_batchnorm(false));
    const auto description = model->description();
    EXPECT_EQ(description.at("family"), "resnet");
    Backbone rebuilt = backbone_from_description(description);
    ASSERT_NE(rebuilt->as<ResNetImpl>(), nullptr);
    EXPECT_EQ(rebuilt->description(), description);
    auto a = model->named_parameters();
    auto b = rebuilt->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].key(), b[i].key());
        EXPECT_EQ(a[i].value().sizes(), b[i].value().sizes());
    }
    EXPECT_THROW(backbone_from_description({{"family", "resnet"}, {"block", "basic"}}), std::runtime_error);
}

TEST(ResNet, ConvTermsChangeTheNetworkAndMergeExactly) {
    torch::manual_seed(6);
    ResNet model(ResNetOptions::preset("tiny-resnet").head_classes(4));
    model->eval();
    auto x = torch::randn({3, 1, 28, 28});
    torch::NoGradGuard no_grad;
    const auto plain = model->forward(x);
    for (auto& [name, layer] : model->lora_layers()) {
        auto t = LowRankTerm::lora(2, layer->options.in_features(), layer->options.out_features(), 0, 1.0);
        t.B.normal_(0.0, 0.05);
        layer->add_term(t);
    }
    const auto adapted = model->forward(x);
    EXPECT_GT((adapted - plain).abs().max().item<double>(), 1e-3);
    for (auto& [name, layer] : model->lora_layers()) layer->merge_terms();
    EXPECT_LE((model->forward(x) - adapted).abs().max().item<double>(), 1e-5);
}

TEST(ResNet, FoundationScopeTrainsBatchNormStatistics) {
    ResNet resnet(ResNetOptions::preset("tiny-resnet").head_classes(2));
    Backbone model(std::shared_ptr<BackboneImpl>(resnet.ptr()));
    model->train();
    {
        BatchNormStatisticsTraining foundation(model);
        EXPECT_TRUE(resnet->bn1->is_training());
        const torch::Tensor before = resnet->bn1->running_mean.clone();
        (void)model->forward(torch::randn({4, 1, 28, 28}) + 2.0);
        EXPECT_FALSE(torch::equal(resnet->bn1->running_mean, before));
    }
    EXPECT_TRUE(resnet->batchnorm_frozen());
    EXPECT_FALSE(resnet->bn1->is_training()) << "frozen again after the scope";
}
