// The training loop's wait for batches (training_batch_wait.h): one batch counted per optimizer step
// on the thread that ran the experiment, a wait no longer than the run, and nothing on other threads.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <variant>

#include "tests/support/class_folders.h"
#include "tests/support/temp_dir.h"
#include "engine/config/experiment_config.h"
#include "engine/services/experiment_runner.h"
#include "engine/train/training_batch_wait.h"
#include "engine/vocabulary/event_listener.h"

using namespace lorica;
namespace fs = std::filesystem;

namespace {

// An image folder of 4 classes × (6 train + 2 test) 12-px PNGs; 2 tasks × 2 classes, batch 4, 2 epochs:
// 3 steps per epoch, 12 steps in all.
struct BatchWaitRun {
    int64_t steps = 0;
    double seconds = 0.0;
    TrainingBatchWait wait;  // the running thread's totals after the run minus before it
};

BatchWaitRun batch_wait_run(const fs::path& dir) {
    nlohmann::json doc = {
        {"name", "batch-wait"},
        {"device", "cpu"},
        {"threads", 1},
        {"cache_dir", (dir / "cache").string()},
        {"data",
         {{"dataset", "image-folder"},
          {"root", (dir / "images").string()},
          {"train_per_class", 0},
          {"test_per_class", 0},
          {"normalize_mean", {0.5, 0.5, 0.5}},
          {"normalize_std", {0.5, 0.5, 0.5}},
          {"workers", 1}}},
        {"foundation", {{"enabled", false}}},
        {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity"}}}},
        {"backbone",
         {{"image_size", 16}, {"patch_size", 8}, {"in_channels", 3}, {"dim", 16}, {"depth", 1}, {"heads", 2}}},
        {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}},
        {"train", {{"epochs", 2}, {"batch_size", 4}}},
        {"eval", {{"batch_size", 8}, {"random_init", false}}}};
    const ExperimentConfig config = parse_experiment_config(doc);
    EventRecorder events;
    CancelToken cancel;
    const TrainingBatchWait before = this_thread_training_batch_wait();
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(run_experiment(config, events, cancel), RunStatus::finished);
    BatchWaitRun run;
    run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const TrainingBatchWait after = this_thread_training_batch_wait();
    run.wait = {after.seconds - before.seconds, after.batches - before.batches};
    for (const auto& e : events.events()) run.steps += std::holds_alternative<StepMetrics>(e);
    return run;
}

}  // namespace

TEST(TrainingBatchWait, CountsOneBatchPerStepOnTheRunningThreadWithinTheRunsWallTime) {
    lorica::testing::TempDir dir("batch-wait");
    lorica::testing::write_class_folders(dir.path / "images", {"a", "b", "c", "d"}, 6, 2);

    const BatchWaitRun here = batch_wait_run(dir.path);
    EXPECT_EQ(here.steps, 12);
    EXPECT_EQ(here.wait.batches, here.steps);
    EXPECT_GT(here.wait.seconds, 0.0);
    EXPECT_LE(here.wait.seconds, here.seconds);

    // A run on another thread adds to that thread's totals, not to this one's.
    const TrainingBatchWait mine = this_thread_training_batch_wait();
    BatchWaitRun there;
    std::thread other([&] { there = batch_wait_run(dir.path); });
    other.join();
    EXPECT_EQ(there.wait.batches, 12);
    EXPECT_EQ(this_thread_training_batch_wait().batches, mine.batches);
    EXPECT_EQ(this_thread_training_batch_wait().seconds, mine.seconds);
}
