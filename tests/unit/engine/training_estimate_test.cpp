// The set-up panel's training estimate counts and measures what the trainer trains: the heads of
// both loss modes (all-seen: every seen head), the steps per task, and real steps of the shared
// training step (training_step.h).
#include <gtest/gtest.h>

#include "engine/methods/catalog/method_catalog.h"
#include "engine/services/training_estimate.h"

using namespace lorica;

namespace {

ExperimentConfig tiny_estimate_config(LossScope loss) {
    ExperimentConfig c;
    c.device = "cpu";
    c.method.name = "frozen-backbone";
    c.backbone.image_size = 8;
    c.backbone.patch_size = 4;
    c.backbone.dim = 16;
    c.backbone.depth = 1;
    c.backbone.heads = 2;
    c.foundation.enabled = false;
    c.stream.tasks = 3;
    c.stream.classes_per_task = 2;
    c.data.train_per_class = 10;
    c.train.batch_size = 4;
    c.train.epochs = 1;
    c.train.loss = loss;
    c.seeds = {4, 5};
    return c;
}

}  // namespace

TEST(TrainingEstimate, CountsTheHeadsOfEachLossModeAndMeasuresTheSharedStep) {
    const int64_t head = 16 * 2 + 2;  // one 2-class head: dim · classes + classes
    for (const LossScope loss : {LossScope::current_task, LossScope::all_seen}) {
        SCOPED_TRACE(name_of(kLossScopeNames, loss));
        const TrainingEstimate e = estimate_training(tiny_estimate_config(loss), 2);
        const bool all_seen = loss == LossScope::all_seen;
        EXPECT_EQ(e.head_per_task, (std::vector<int64_t>{head, (all_seen ? 2 : 1) * head, (all_seen ? 3 : 1) * head}));
        EXPECT_EQ(e.trainable_per_task, e.head_per_task) << "frozen backbone: the heads only";
        EXPECT_EQ(e.steps_per_task, (std::vector<int64_t>{5, 5, 5})) << "ceil(2 · 10 / 4), one epoch";
        EXPECT_EQ(e.runs, 2);
        EXPECT_EQ(e.total_steps, 30);
        EXPECT_EQ(e.measured_steps, 2);
        EXPECT_GT(e.seconds_per_step, 0.0);
        EXPECT_DOUBLE_EQ(e.estimated_seconds, 30 * e.seconds_per_step);
    }
}

// Every registered method is estimated through all tasks, including those that make their own pass
// over the task's images (InfLoRA's features before training, a Fisher after it): the estimate's
// context offers such a pass, so no method's estimate stops after its first task.
TEST(TrainingEstimate, EveryRegisteredMethodIsCountedOnEveryTask) {
    for (const MethodDeclaration& m : method_declarations()) {
        SCOPED_TRACE(m.name);
        ExperimentConfig c = tiny_estimate_config(LossScope::current_task);
        c.method.name = m.name;
        c.method.rank = 2;
        c.method.targets = {"q", "v"};
        if (m.name.rfind("sd-lora-rr", 0) == 0) c.method.options = {{"rank_schedule", {{0, 2}, {1, 2}}}};
        const TrainingEstimate e = estimate_training(c, 1);
        ASSERT_EQ(e.trainable_per_task.size(), 3u);
        for (const int64_t n : e.trainable_per_task) EXPECT_GT(n, 0) << "a task the estimate could not count";
        EXPECT_EQ(e.measured_steps, 1);
    }
}
