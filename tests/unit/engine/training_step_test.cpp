// The shared task set-up and training step (engine/train/task_preparation.h, training_step.h): the
// step count, the heads' gradient flags and lr, the loss of both loss modes, and the trainer's first
// step equal to the shared step rebuilt by hand from the same seed and batch.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "engine/data/batcher.h"
#include "engine/data/stream_data.h"
#include "engine/methods/method_registry.h"
#include "engine/train/lr_schedule.h"
#include "engine/train/stream_trainer.h"
#include "engine/train/task_preparation.h"
#include "engine/train/training_step.h"
#include "engine/util/seed_offsets.h"
#include "tests/support/method_bench.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::MethodBench;

namespace {

ExperimentConfig frozen_backbone_config(LossScope loss) {
    ExperimentConfig c;
    c.method.name = "frozen-backbone";
    c.train.loss = loss;
    return c;
}

std::vector<torch::Tensor> copies(const std::vector<torch::Tensor>& tensors) {
    std::vector<torch::Tensor> out;
    for (const auto& t : tensors) out.push_back(t.detach().clone());
    return out;
}

bool any_changed(const std::vector<torch::Tensor>& now, const std::vector<torch::Tensor>& before) {
    for (size_t i = 0; i < now.size(); ++i)
        if (!torch::equal(now[i], before[i])) return true;
    return false;
}

}  // namespace

TEST(PassSteps, CeilOfBatchesTimesEpochsCappedByMaxSteps) {
    TrainConfig train;
    train.batch_size = 32;
    train.epochs = 2;
    train.max_steps_per_task = 0;
    EXPECT_EQ(pass_steps(train, 100), 8) << "ceil(100 / 32) = 4 batches, 2 epochs";
    EXPECT_EQ(pass_steps(train, 96), 6);
    EXPECT_EQ(pass_steps(train, 0), 0);
    train.max_steps_per_task = 5;
    EXPECT_EQ(pass_steps(train, 100), 5);
    EXPECT_EQ(pass_steps(train, 32), 2);
}

TEST(PrepareTask, TrainsTheTaskHeadOrEverySeenHeadWithTheHeadLrFallback) {
    MethodBench b(frozen_backbone_config(LossScope::current_task), 1, 3);
    for (int t = 0; t < 3; ++t) b.heads->add_head(2 + t, 10 + t, torch::kCPU);  // 2, 3 and 4 classes

    TrainConfig train = b.config.train;
    train.optimizer.lr = 0.25;
    train.optimizer.head_lr = 0.5;
    TaskPreparation current = prepare_task(b.heads, train, 2);
    EXPECT_FALSE(current.all_seen);
    EXPECT_EQ(current.target_offset, 0);
    EXPECT_EQ(current.head_lr, 0.5);
    EXPECT_EQ(current.head_params.size(), 2u) << "head 2's weight and bias";
    for (int h = 0; h < 3; ++h)
        for (const auto& p : b.heads->head(h)->parameters()) EXPECT_EQ(p.requires_grad(), h == 2) << "head " << h;

    train.loss = LossScope::all_seen;
    train.optimizer.head_lr = 0.0;
    TaskPreparation all_seen = prepare_task(b.heads, train, 1);
    EXPECT_TRUE(all_seen.all_seen);
    EXPECT_EQ(all_seen.target_offset, 2) << "head 1's first class-IL logit follows head 0's 2 classes";
    EXPECT_EQ(all_seen.head_lr, 0.25) << "head_lr = 0 falls back to lr";
    EXPECT_EQ(all_seen.head_params.size(), 4u);
    for (int h = 0; h < 3; ++h)
        for (const auto& p : b.heads->head(h)->parameters()) EXPECT_EQ(p.requires_grad(), h <= 1) << "head " << h;
    EXPECT_TRUE(torch::equal(task_targets(all_seen, torch::tensor({0, 2}, torch::kInt64)),
                             torch::tensor({2, 4}, torch::kInt64)));
    EXPECT_TRUE(torch::equal(task_targets(current, torch::tensor({0, 2}, torch::kInt64)),
                             torch::tensor({0, 2}, torch::kInt64)));
}

TEST(AddTaskHead, SeedsNewHeadsWithHeadSeedAndKeepsExistingOnes) {
    TaskHeads heads(8);
    TaskSpec task;
    task.head = 0;
    task.classes = {4, 9, 1};
    add_task_head(heads, task, 42, torch::kCPU);
    add_task_head(heads, task, 42, torch::kCPU);  // exists: nothing added
    ASSERT_EQ(heads->size(), 1);
    TaskHeads expected(8);
    expected->add_head(3, mix_seed(42, 0x4EAD0000u), torch::kCPU);  // the trainer's head seed since the start
    EXPECT_EQ(head_seed(42, 1), mix_seed(42, 0x4EAD0001u));
    EXPECT_TRUE(torch::equal(heads->head(0)->weight, expected->head(0)->weight));
    EXPECT_TRUE(torch::equal(heads->head(0)->bias, expected->head(0)->bias));
}

// Both loss modes: the step returns the loss of the batch before the update (hand-computed from the
// same heads), and updates exactly the heads that loss trains.
TEST(TrainStep, LossOverTheTaskHeadOrEverySeenHeadUpdatesExactlyThoseHeads) {
    for (const LossScope loss_mode : {LossScope::current_task, LossScope::all_seen}) {
        SCOPED_TRACE(name_of(kLossScopeNames, loss_mode));
        MethodBench b(frozen_backbone_config(loss_mode), 3, 2);
        std::unique_ptr<AdapterMethod> method = make_method(b.config);
        method->begin_run(*b.ctx);
        for (int t = 0; t < 2; ++t) b.heads->add_head(2, 20 + t, torch::kCPU);
        b.ctx->task = 1;
        method->begin_task(*b.ctx);
        const TaskPreparation prep = prepare_task(b.heads, b.config.train, 1);
        method->begin_pass(*b.ctx, 0);
        PassOptimizer pass = make_pass_optimizer(*method, *b.ctx, prep, b.config.train.optimizer);

        torch::manual_seed(5);
        const torch::Tensor x = torch::randn({6, 1, 8, 8});
        const torch::Tensor local = torch::randint(0, 2, {6}, torch::kInt64);
        const torch::Tensor targets = task_targets(prep, local);
        torch::Tensor expected;
        {
            torch::NoGradGuard no_grad;
            const torch::Tensor f = b.model->features(x);
            expected = loss_mode == LossScope::all_seen
                           ? torch::nn::functional::cross_entropy(b.heads->logits_upto(f, 1), local + 2)
                           : torch::nn::functional::cross_entropy(b.heads->logits_of(f, 1), local);
        }
        const auto head0 = copies(b.heads->head(0)->parameters());
        const auto head1 = copies(b.heads->head(1)->parameters());
        const auto backbone = copies(b.model->parameters());

        GradScaler scaler(false);
        const torch::Tensor loss = train_step({*b.ctx, *method, scaler}, prep, pass, x, targets);
        EXPECT_NEAR(loss.item<double>(), expected.item<double>(), 1e-6);
        EXPECT_TRUE(any_changed(b.heads->head(1)->parameters(), head1)) << "the task's head trains";
        EXPECT_EQ(any_changed(b.heads->head(0)->parameters(), head0), loss_mode == LossScope::all_seen)
            << "head 0 trains only under the all-seen loss";
        EXPECT_FALSE(any_changed(b.model->parameters(), backbone)) << "frozen backbone";
    }
}

TEST(TrainStep, ClipsTheGlobalGradientNorm) {
    ExperimentConfig config = frozen_backbone_config(LossScope::current_task);
    config.train.grad_clip = 1e-3;
    config.train.optimizer.head_lr = 0.1;
    MethodBench b(config, 3, 1);
    std::unique_ptr<AdapterMethod> method = make_method(b.config);
    method->begin_run(*b.ctx);
    b.heads->add_head(2, 20, torch::kCPU);
    method->begin_task(*b.ctx);
    const TaskPreparation prep = prepare_task(b.heads, b.config.train, 0);
    PassOptimizer pass = make_pass_optimizer(*method, *b.ctx, prep, b.config.train.optimizer);
    GradScaler scaler(false);
    (void)train_step({*b.ctx, *method, scaler}, prep, pass, torch::randn({6, 1, 8, 8}),
                     torch::randint(0, 2, {6}, torch::kInt64));
    double squared = 0.0;
    for (const auto& p : pass.trainable)
        if (p.grad().defined()) squared += p.grad().pow(2).sum().item<double>();
    EXPECT_LE(std::sqrt(squared), 1e-3 * (1 + 1e-4)) << "the gradients the optimizer used were clipped";
}

// The stream trainer's steps are the shared step: its first two losses (the second one after the first
// update) equal train_step's on the same seed, model, head and batches, set up by hand as the trainer
// does.
TEST(TrainStep, TheTrainersLossesAreTheSharedStepsOnTheSameBatches) {
    for (const LossScope loss_mode : {LossScope::current_task, LossScope::all_seen}) {
        SCOPED_TRACE(name_of(kLossScopeNames, loss_mode));
        lorica::testing::TempDir cache("train-step");
        ExperimentConfig config;
        config.device = "cpu";
        config.cache_dir = cache.path.string();
        config.backbone.image_size = 8;
        config.backbone.patch_size = 4;
        config.backbone.dim = 16;
        config.backbone.depth = 1;
        config.backbone.heads = 2;
        config.foundation.enabled = false;
        config.eval.random_init = false;
        config.eval.before_task = false;
        config.stream.tasks = 2;
        config.stream.classes_per_task = 2;
        config.data.train_per_class = 8;
        config.data.test_per_class = 2;
        config.train.batch_size = 8;
        config.train.epochs = 1;
        config.train.max_steps_per_task = 2;
        config.train.loss = loss_mode;
        const int64_t seed = 3;

        RawDataset raw;
        raw.name = "synthetic";
        raw.num_classes = 4;
        raw.channels = 1;
        torch::manual_seed(11);
        raw.train_images = torch::randint(0, 256, {40, 1, 8, 8}, torch::kUInt8);
        raw.train_labels = torch::arange(40, torch::kInt64).remainder(4);
        raw.test_images = torch::randint(0, 256, {12, 1, 8, 8}, torch::kUInt8);
        raw.test_labels = torch::arange(12, torch::kInt64).remainder(4);
        for (int c = 0; c < 4; ++c) raw.class_names.push_back("c" + std::to_string(c));

        struct TaskZeroLosses : EventListener {
            std::vector<double> losses;
            void on_event(const Event& event) override {
                if (const auto* m = std::get_if<StepMetrics>(&event); m && m->task == 0) losses.push_back(m->loss);
            }
        } listener;
        CancelToken cancel;
        ASSERT_EQ(run_stream({config, raw, 0, seed}, listener, cancel), RunStatus::finished);
        ASSERT_EQ(listener.losses.size(), 2u);

        // By hand, in the trainer's order: the method, the data, the seeded model, head, batches, steps.
        std::unique_ptr<AdapterMethod> method = make_method(config);
        const StreamData data = build_stream_data(config, raw, seed);
        torch::manual_seed(static_cast<uint64_t>(seed));
        VisionTransformer model(ViTOptions::from_config(config.backbone, 0));
        TaskHeads heads(config.backbone.dim);
        MethodContext ctx{model, heads, config, 0, 2, 0, torch::kCPU, static_cast<uint64_t>(seed), {}, {}, {}, {}};
        method->begin_run(ctx);
        const TaskData& task = data.tasks[0];
        add_task_head(heads, task.spec, seed, torch::kCPU);
        method->begin_task(ctx);
        const TaskPreparation prep = prepare_task(heads, config.train, task.spec.head);
        method->begin_pass(ctx, 0);
        PassOptimizer pass = make_pass_optimizer(*method, ctx, prep, config.train.optimizer);
        model->train();
        const Batcher batcher(task.train.size(), config.train.batch_size,
                              derived_seed(static_cast<uint64_t>(seed), SeedStream::task_batches, 0));
        const std::vector<torch::Tensor> batches = batcher.epoch(0);
        ASSERT_EQ(batches.size(), 2u) << "16 images in batches of 8";
        const uint64_t batch_seed =
            mix_seed(derived_seed(static_cast<uint64_t>(seed), SeedStream::task_batch_transforms, 0), 0);
        const torch::Tensor all_targets = task_targets(prep, local_labels(task.train.labels, task.spec.classes));
        GradScaler scaler(false);
        for (int s = 0; s < 2; ++s) {
            pass.optimizer.set_lr_multiplier(lr_multiplier(config.train.schedule, s, 2));
            const torch::Tensor x = task.train.samples->batch(batches[s], BatchMode::train, batch_seed);
            const double loss =
                train_step({ctx, *method, scaler}, prep, pass, x, all_targets.index_select(0, batches[s]))
                    .item<double>();
            EXPECT_DOUBLE_EQ(listener.losses[s], loss) << "step " << s + 1;
        }
    }
}
