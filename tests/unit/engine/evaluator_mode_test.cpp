// Evaluator leaves the model in the train/eval mode it found, also when the evaluation throws.
#include <gtest/gtest.h>

#include <stdexcept>

#include <torch/torch.h>

#include "engine/model/vit.h"
#include "engine/data/sample_source.h"
#include "engine/train/evaluator.h"
#include "engine/train/module_mode_guard.h"

using namespace lorica;

namespace {

// A test split whose images cannot be read: the evaluation throws from inside the forward loop.
class UnreadableSamples final : public SampleSource {
public:
    int64_t size() const override { return 4; }
    torch::Tensor batch(const torch::Tensor&, BatchMode, uint64_t) override {
        throw std::runtime_error("unreadable image");
    }
};

struct OneTaskStream {
    StreamData data;
    VisionTransformer model{nullptr};
    TaskHeads heads{nullptr};

    explicit OneTaskStream(std::shared_ptr<SampleSource> test_images) {
        torch::manual_seed(0);
        model = VisionTransformer(
            ViTOptions().image_size(8).patch_size(4).in_channels(1).dim(16).depth(1).heads(2).head_classes(0));
        heads = TaskHeads(16);
        heads->add_head(2, 1, torch::kCPU);
        TaskData task;
        task.spec.classes = {0, 1};
        task.test.samples = std::move(test_images);
        task.test.labels = torch::tensor({0, 1, 0, 1}, torch::kInt64);
        data.tasks.push_back(std::move(task));
    }
    std::vector<EvalRow> evaluate() {
        Evaluator evaluator(data, EvalConfig{}, torch::kCPU);
        return evaluator.evaluate_tasks(model, heads, {0}, 0, 0, 0, EvalPhase::end_of_task);
    }
};

}  // namespace

TEST(EvaluatorMode, RestoresTheModelsPreviousMode) {
    OneTaskStream stream(std::make_shared<TensorSamples>(torch::randn({4, 1, 8, 8})));
    for (bool training : {true, false}) {
        stream.model->train(training);
        EXPECT_EQ(stream.evaluate().size(), 2u) << "class-IL and task-IL rows";
        EXPECT_EQ(stream.model->is_training(), training);
        for (const auto& child : stream.model->modules(false)) EXPECT_EQ(child->is_training(), training);
    }
}

TEST(EvaluatorMode, RestoresTheModelsPreviousModeWhenTheEvaluationThrows) {
    OneTaskStream stream(std::make_shared<UnreadableSamples>());
    for (bool training : {true, false}) {
        stream.model->train(training);
        EXPECT_THROW(stream.evaluate(), std::runtime_error);
        EXPECT_EQ(stream.model->is_training(), training);
    }
}

TEST(ModuleModeGuard, SetsTheModeForItsScopeOnly) {
    torch::nn::Linear layer(2, 2);
    layer->train();
    {
        ModuleModeGuard eval_mode(*layer, false);
        EXPECT_FALSE(layer->is_training());
    }
    EXPECT_TRUE(layer->is_training());
    layer->eval();
    try {
        ModuleModeGuard train_mode(*layer, true);
        EXPECT_TRUE(layer->is_training());
        throw std::runtime_error("leaves the scope");
    } catch (const std::runtime_error&) {}
    EXPECT_FALSE(layer->is_training());
}
