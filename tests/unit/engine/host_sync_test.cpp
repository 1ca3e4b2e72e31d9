// No training step reads a tensor value back to the host (engine/runtime/host_read.h): every
// registered method trains a tiny two-task stream on the CPU with the losses read back in blocks of
// K = 4 steps (train.loss_readback_steps), 12 steps per epoch, and
//   - no read happens inside a step (the trainer marks its steps with TrainingStepScope; a read there
//     names its file:line),
//   - from a task's TaskStarted to the end of its first epoch the engine reads exactly 12 / 4 = 3
//     times: one stacked copy per block, losses and step-time records together;
// SD-LoRA's step-time records (magnitudes, direction residual) are the same numbers at the same steps
// whether read back every step or in blocks; and no file under engine/ calls `.item(` outside
// host_read.cpp (the scan names file:line), so every read passes through the counted wrapper.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/methods/catalog/method_catalog.h"
#include "engine/runtime/host_read.h"
#include "engine/services/experiment_runner.h"
#include "engine/train/loss_readback.h"
#include "engine/vocabulary/event_listener.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kHostSyncStepsPerEpoch = 12;  // 2 classes × 24 images, batch 4
constexpr int64_t kHostSyncBlock = 4;

// Foundation 3 classes × 40 images (1 epoch); 2 tasks × 2 classes, 1 epoch of 12 steps; no evaluation
// inside a task; one thread.
nlohmann::json host_sync_config(const fs::path& dir, const std::string& method, int64_t block) {
    return {{"name", "host-sync"},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", (dir / "cache").string()},
            {"data", {{"train_per_class", 24}, {"test_per_class", 8}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 40}, {"epochs", 1}, {"batch_size", 40}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}}},
            {"method", {{"name", method}, {"rank", 4}, {"alpha", 4.0}}},
            {"train",
             {{"epochs", 1},
              {"batch_size", 4},
              {"loss_readback_steps", block},
              {"optimizer", {{"lr", 2e-3}, {"head_lr", 5e-3}}}}},
            {"eval", {{"every_steps", 0}}}};
}

// Host reads from each TaskStarted to the EpochFinished after it; the steps and step-time records seen.
class HostReadListener final : public EventListener {
public:
    void on_event(const Event& event) override {
        if (std::holds_alternative<TaskStarted>(event)) {
            at_task_start_ = host_reads();
            in_first_epoch_ = true;
        } else if (std::holds_alternative<EpochFinished>(event) && in_first_epoch_) {
            first_epoch_reads.push_back(host_reads() - at_task_start_);
            in_first_epoch_ = false;
        } else if (std::holds_alternative<StepMetrics>(event)) {
            ++steps;
        } else if (const auto* m = std::get_if<MethodState>(&event)) {
            states.push_back(*m);
        } else if (const auto* f = std::get_if<RunFinished>(&event)) {
            message = f->message;
        }
    }
    std::vector<int64_t> first_epoch_reads;  // per task
    int64_t steps = 0;
    std::vector<MethodState> states;
    std::string message;

private:
    int64_t at_task_start_ = 0;
    bool in_first_epoch_ = false;
};

struct HostSyncRun {
    RunStatus status = RunStatus::failed;
    HostReadListener events;
    int64_t reads_in_step = 0;
    std::string last_site;
};

void run_host_sync(const fs::path& dir, const std::string& method, int64_t block, HostSyncRun& out) {
    CancelToken cancel;
    HostReadCount count;
    out.status = run_experiment(parse_experiment_config(host_sync_config(dir, method, block)), out.events, cancel);
    out.reads_in_step = count.in_step();
    out.last_site = HostReadCount::last_in_step_site();
}

// Whether a source line calls .item( / .item< outside a // comment.
bool host_sync_calls_item(const std::string& line) {
    const std::string code = line.substr(0, line.find("//"));
    return code.find(".item(") != std::string::npos || code.find(".item<") != std::string::npos;
}

}  // namespace

TEST(HostRead, CountsEveryReadAndTheReadsInsideAStep) {
    const torch::Tensor t = torch::tensor({1.5f, -2.0f, 3.25f});
    HostReadCount count;
    EXPECT_EQ(read_scalar(t[1]), -2.0);
    EXPECT_EQ(read_int(torch::tensor(7)), 7);
    EXPECT_EQ(read_values(t), (std::vector<double>{1.5, -2.0, 3.25}));
    EXPECT_EQ(read_ints(torch::tensor({3, 4})), (std::vector<int64_t>{3, 4}));
    EXPECT_TRUE(copy_to_host(t).device().is_cpu());
    EXPECT_EQ(count.reads(), 5);
    EXPECT_EQ(count.in_step(), 0);
    {
        const TrainingStepScope in_step;
        const int line = __LINE__ + 1;
        (void)read_scalar(t[0]);
        EXPECT_EQ(count.in_step(), 1);
        EXPECT_NE(HostReadCount::last_in_step_site().find("host_sync_test.cpp:" + std::to_string(line)),
                  std::string::npos)
            << HostReadCount::last_in_step_site();
    }
    (void)read_scalar(t[0]);
    EXPECT_EQ(count.reads(), 7);
    EXPECT_EQ(count.in_step(), 1);
}

TEST(HostRead, LossReadbackCopiesABlockWithItsValuesOnce) {
    LossReadback r(3);
    EXPECT_FALSE(r.push(torch::tensor(0.5f), {torch::tensor({1.0f, 2.0f})}));
    EXPECT_FALSE(r.push(torch::tensor(0.25f)));
    HostReadCount count;
    EXPECT_TRUE(r.push(torch::tensor(0.125f), {torch::tensor(3.0, torch::kFloat64), torch::tensor({4.0f})}));
    const std::vector<StepReadout> steps = r.read_steps();
    EXPECT_EQ(count.reads(), 1);
    ASSERT_EQ(steps.size(), 3u);
    EXPECT_EQ(steps[0].loss, 0.5);
    EXPECT_EQ(steps[0].values, (std::vector<std::vector<double>>{{1.0, 2.0}}));
    EXPECT_EQ(steps[1].loss, 0.25);
    EXPECT_TRUE(steps[1].values.empty());
    EXPECT_EQ(steps[2].loss, 0.125);
    EXPECT_EQ(steps[2].values, (std::vector<std::vector<double>>{{3.0}, {4.0}}));
    EXPECT_EQ(r.pending(), 0);
    EXPECT_TRUE(r.read_steps().empty());
    EXPECT_EQ(count.reads(), 1);  // nothing pending: no copy
}

// Every registered method: no read inside a step; one read per block of K steps.
TEST(HostSync, NoMethodReadsTheDeviceInsideATrainingStep) {
    TempDir dir("host-sync");
    for (const MethodDeclaration& d : method_declarations()) {
        SCOPED_TRACE(d.name);
        HostSyncRun run;
        run_host_sync(dir.path, d.name, kHostSyncBlock, run);
        ASSERT_EQ(run.status, RunStatus::finished) << run.events.message;
        EXPECT_EQ(run.reads_in_step, 0) << "a training step read a value back at " << run.last_site;
        ASSERT_EQ(run.events.first_epoch_reads.size(), 2u);
        for (size_t t = 0; t < 2; ++t)
            EXPECT_EQ(run.events.first_epoch_reads[t], kHostSyncStepsPerEpoch / kHostSyncBlock)
                << "task " << t << ": host reads from TaskStarted to the end of the first epoch";
        EXPECT_GE(run.events.steps, 2 * kHostSyncStepsPerEpoch);
    }
}

// SD-LoRA's magnitudes and direction residual over steps: the same steps and the same doubles whether
// read back every step or with the losses of blocks of 4 steps.
TEST(HostSync, SdLoraStepRecordsAreTheSameReadEveryStepOrInBlocks) {
    TempDir dir("host-sync-sd-lora");
    HostSyncRun every, blocks;
    run_host_sync(dir.path, "sd-lora", 1, every);
    run_host_sync(dir.path, "sd-lora", kHostSyncBlock, blocks);
    ASSERT_EQ(every.status, RunStatus::finished) << every.events.message;
    ASSERT_EQ(blocks.status, RunStatus::finished) << blocks.events.message;
    int64_t residuals = 0;
    for (const auto& s : every.events.states) residuals += s.key == StateKey::direction_residual ? 1 : 0;
    EXPECT_GE(residuals, 2) << "task 1's steps 16 and 24 (state_every 8), and its end";
    ASSERT_EQ(every.events.states.size(), blocks.events.states.size());
    for (size_t i = 0; i < every.events.states.size(); ++i) {
        const MethodState& a = every.events.states[i];
        const MethodState& b = blocks.events.states[i];
        EXPECT_EQ(a.task, b.task) << i;
        EXPECT_EQ(a.step, b.step) << i;
        EXPECT_EQ(a.key, b.key) << i;
        EXPECT_EQ(a.values, b.values) << i << " at step " << a.step;
    }
}

// Every read of tensor values in engine/ goes through engine/runtime/host_read.h (counted there).
TEST(HostSync, NoEngineFileCallsItemOutsideTheHostReadWrapper) {
    // LORICA_TEST_DATA_DIR is <source>/tests/data.
    const fs::path root = fs::path(LORICA_TEST_DATA_DIR).parent_path().parent_path();
    ASSERT_TRUE(fs::exists(root / "engine" / "runtime" / "host_read.cpp")) << root;
    int files = 0;
    std::vector<std::string> found;
    for (const auto& entry : fs::recursive_directory_iterator(root / "engine")) {
        const std::string ext = entry.path().extension().string();
        if (ext != ".cpp" && ext != ".h") continue;
        if (entry.path().filename() == "host_read.cpp") continue;
        ++files;
        std::ifstream in(entry.path());
        std::string line;
        for (int number = 1; std::getline(in, line); ++number)
            if (host_sync_calls_item(line))
                found.push_back(fs::relative(entry.path(), root).string() + ":" + std::to_string(number));
    }
    EXPECT_GT(files, 100);
    for (const auto& where : found) ADD_FAILURE() << where << " calls .item(): use engine/runtime/host_read.h";
    EXPECT_TRUE(host_sync_calls_item("  double v = t.sum().item<double>();"));
    EXPECT_FALSE(host_sync_calls_item("  // reading with `loss.item()` blocks"));
}
