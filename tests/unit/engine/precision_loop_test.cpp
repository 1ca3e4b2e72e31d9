// The GPU-grade training loop on the CPU: train.precision (autocast scopes, bf16 and fp16 runs),
// block-wise loss read-back (bit-identical reports, every step's loss kept), the NaN/Inf check
// naming the first non-finite step, and `device = cuda` on a machine without a GPU (exit 2).
// The device-taking tests honour LORICA_TEST_DEVICE (tests/support/test_device.h).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/services/experiment_runner.h"
#include "engine/train/loss_readback.h"
#include "engine/train/precision.h"
#include "engine/vocabulary/event_listener.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/config_errors.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_device.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Foundation 3 classes × 100 images, 2 tasks × 2 classes × 160 images, 2 epochs of batch 32: 20 steps a task.
nlohmann::json loop_config(const fs::path& dir) {
    return {{"name", "precision"},
            {"device", lorica::testing::test_device()},
            {"threads", 1},
            {"cache_dir", (dir / "cache").string()},
            {"data", {{"train_per_class", 160}, {"test_per_class", 50}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 100}, {"epochs", 1}, {"batch_size", 50}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"method", {{"name", "sequential-lora"}, {"rank", 4}, {"alpha", 4.0}}},
            {"train", {{"epochs", 2}, {"batch_size", 32}, {"optimizer", {{"lr", 2e-3}, {"head_lr", 5e-3}}}}},
            {"eval", {{"every_steps", 7}, {"random_init", false}}}};
}

struct Recorded {
    RunStatus status = RunStatus::failed;
    std::vector<StepMetrics> steps;
    std::vector<EvalRow> rows;
    std::vector<double> epoch_losses;
    std::string message;
    std::vector<std::string> warnings;
};

Recorded run(const nlohmann::json& doc) {
    ExperimentConfig config = parse_experiment_config(doc);
    EventRecorder events;
    CancelToken cancel;
    Recorded r;
    r.status = run_experiment(config, events, cancel);
    for (const auto& e : events.events()) {
        if (auto* s = std::get_if<StepMetrics>(&e)) r.steps.push_back(*s);
        if (auto* d = std::get_if<EvaluationDone>(&e)) r.rows.insert(r.rows.end(), d->rows.begin(), d->rows.end());
        if (auto* f = std::get_if<EpochFinished>(&e)) r.epoch_losses.push_back(f->mean_loss);
        if (auto* f = std::get_if<RunFinished>(&e)) r.message = f->message;
        if (auto* w = std::get_if<Warning>(&e)) r.warnings.push_back(w->message);
    }
    return r;
}

double task_il_percent(const std::vector<EvalRow>& rows, int after_task, int eval_task) {
    for (const auto& r : rows)
        if (r.after_task == after_task && r.eval_task == eval_task && r.phase == EvalPhase::end_of_task &&
            r.head_mode == HeadMode::task_il)
            return 100.0 * r.correct / r.total;
    return -1.0;
}

}  // namespace

TEST(PrecisionConfig, ParsesTheThreeModesAndNamesTheFieldOfABadOne) {
    EXPECT_EQ(parse_experiment_config(nlohmann::json::object()).train.precision, Precision::fp32);
    for (const auto& [value, name] : kPrecisionNames) {
        ExperimentConfig c = parse_experiment_config({{"train", {{"precision", std::string(name)}}}});
        EXPECT_EQ(c.train.precision, value);
        EXPECT_EQ(to_json(c)["train"]["precision"], std::string(name));
        EXPECT_EQ(parse_experiment_config(to_json(c)).train.precision, value);  // round trip
    }
    ConfigError e = lorica::testing::config_error_of({{"train", {{"precision", "fp8"}}}});
    EXPECT_EQ(e.field(), "train.precision");
    EXPECT_NE(std::string(e.what()).find("fp32, bf16, fp16"), std::string::npos) << e.what();
    EXPECT_EQ(lorica::testing::config_error_of({{"train", {{"loss_readback_steps", -1}}}}).field(),
              "train.loss_readback_steps");
    ExperimentConfig c = parse_experiment_config({{"train", {{"loss_readback_steps", 16}}}});
    EXPECT_EQ(loss_readback_steps(c.train, torch::kCPU), 16);
    EXPECT_EQ(loss_readback_steps(TrainConfig{}, torch::kCPU), 1);
    EXPECT_EQ(loss_readback_steps(TrainConfig{}, torch::Device(torch::kCUDA, 0)), kAutoCudaLossReadbackSteps);
}

TEST(AutocastScope, CastsMatmulsInsideRestoresOutsideAndFp32DoesNothing) {
    torch::Tensor a = torch::randn({4, 8}), b = torch::randn({8, 3});
    {
        AutocastScope scope(Precision::bf16, torch::kCPU);
        EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kBFloat16);
        torch::Tensor labels = torch::zeros({4}, torch::kInt64);
        EXPECT_EQ(torch::nn::functional::cross_entropy(torch::matmul(a, b), labels).scalar_type(),
                  torch::kFloat);  // kept fp32
        {
            AutocastScope inner(Precision::fp16, torch::kCPU);
            EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kHalf);
        }
        EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kBFloat16);  // the outer dtype is back
    }
    EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
    EXPECT_EQ(torch::matmul(a, b).scalar_type(), torch::kFloat);
    {
        AutocastScope none(Precision::fp32, torch::kCPU);
        EXPECT_FALSE(at::autocast::is_autocast_enabled(at::kCPU));
        EXPECT_TRUE(torch::equal(torch::matmul(a, b), torch::matmul(a, b)));
    }
}

TEST(LossReadback, ReadsEveryPendingLossBackInOrderAsItemWould) {
    LossReadback r(3);
    std::vector<torch::Tensor> losses = {torch::tensor(0.1f), torch::tensor(1.0f / 3.0f),
                                         torch::tensor(2.5f, torch::kBFloat16)};
    EXPECT_FALSE(r.push(losses[0]));
    EXPECT_FALSE(r.push(losses[1]));
    EXPECT_TRUE(r.push(losses[2]));
    std::vector<double> back = r.read();
    ASSERT_EQ(back.size(), 3u);
    for (size_t i = 0; i < 3; ++i) EXPECT_EQ(back[i], losses[i].item<double>());  // exact
    EXPECT_EQ(r.pending(), 0);
    EXPECT_TRUE(r.read().empty());
    r.push(torch::tensor(std::nanf("")));
    EXPECT_TRUE(std::isnan(r.read().at(0)));
    EXPECT_THROW(LossReadback(0), std::invalid_argument);
}

// Reading the losses back in blocks of 6 reports exactly what per-step reads report: every step,
// the same doubles, the same epoch means and evaluation rows.
TEST(LossReadbackLoop, BlocksReportEveryStepBitIdenticalToPerStepReads) {
    TempDir dir("readback");
    nlohmann::json doc = loop_config(dir.path);
    doc["train"]["loss_readback_steps"] = 1;
    Recorded single = run(doc);
    doc["train"]["loss_readback_steps"] = 6;
    Recorded blocks = run(doc);
    ASSERT_EQ(single.status, RunStatus::finished) << single.message;
    ASSERT_EQ(blocks.status, RunStatus::finished) << blocks.message;
    ASSERT_EQ(single.steps.size(), 40u);
    ASSERT_EQ(blocks.steps.size(), single.steps.size());
    for (size_t i = 0; i < single.steps.size(); ++i) {
        EXPECT_EQ(blocks.steps[i].step, single.steps[i].step);
        EXPECT_EQ(blocks.steps[i].step_in_task, single.steps[i].step_in_task);
        EXPECT_EQ(blocks.steps[i].loss, single.steps[i].loss) << "step " << single.steps[i].step;
        EXPECT_GT(blocks.steps[i].step_ms, 0.0);
    }
    EXPECT_EQ(blocks.epoch_losses, single.epoch_losses);
    ASSERT_EQ(blocks.rows.size(), single.rows.size());
    for (size_t i = 0; i < single.rows.size(); ++i) EXPECT_EQ(blocks.rows[i].correct, single.rows[i].correct);
}

// A learning rate far too large makes the loss non-finite; the failure names the task, epoch and the
// step where it first became non-finite — the same step whether losses are read every step or in
// blocks of 7, where the message also names the block it was read back with.
TEST(LossReadbackLoop, NanNamesTheFirstNonFiniteStepAlsoWhenReadInBlocks) {
    TempDir dir("readback-nan");
    nlohmann::json doc = loop_config(dir.path);
    doc["foundation"]["enabled"] = false;
    doc["method"]["name"] = "full-finetune";
    doc["train"]["optimizer"] = {{"name", "sgd"}, {"lr", 9.0}, {"head_lr", 9.0}, {"momentum", 0.99}};
    doc["train"]["epochs"] = 20;
    doc["eval"]["every_steps"] = 0;
    doc["train"]["loss_readback_steps"] = 1;
    Recorded single = run(doc);
    doc["train"]["loss_readback_steps"] = 7;
    Recorded blocks = run(doc);
    ASSERT_EQ(single.status, RunStatus::failed);
    ASSERT_EQ(blocks.status, RunStatus::failed);
    const std::regex where(R"(task (\d+), epoch (\d+), step (\d+): loss is )");
    std::smatch a, b;
    ASSERT_TRUE(std::regex_search(single.message, a, where)) << single.message;
    ASSERT_TRUE(std::regex_search(blocks.message, b, where)) << blocks.message;
    EXPECT_EQ(a.str(0), b.str(0));
    EXPECT_EQ(single.message.find("read back with"), std::string::npos) << single.message;
    EXPECT_NE(blocks.message.find("read back with steps"), std::string::npos) << blocks.message;
    // Every step before the failing one was reported, with a finite loss.
    const int64_t failing = std::stoll(a.str(3));
    for (const auto* r : {&single, &blocks}) {
        int64_t last_in_task = 0;
        for (const auto& s : r->steps) {
            EXPECT_TRUE(std::isfinite(s.loss));
            if (s.task == std::stoi(a.str(1))) last_in_task = s.step_in_task;
        }
        EXPECT_EQ(last_in_task, failing - 1);
    }
}

// bf16 autocast trains: finite losses that differ from fp32's (autocast really ran), accuracy
// well above chance (50% task-IL) after each task.
TEST(PrecisionLoop, Bf16TrainsAboveChanceWithLossesOfItsOwn) {
    TempDir dir("bf16");
    nlohmann::json doc = loop_config(dir.path);
    Recorded fp32 = run(doc);
    doc["train"]["precision"] = "bf16";
    Recorded bf16 = run(doc);
    ASSERT_EQ(fp32.status, RunStatus::finished) << fp32.message;
    ASSERT_EQ(bf16.status, RunStatus::finished) << bf16.message;
    ASSERT_EQ(bf16.steps.size(), fp32.steps.size());
    int differing = 0;
    for (size_t i = 0; i < fp32.steps.size(); ++i) {
        EXPECT_TRUE(std::isfinite(bf16.steps[i].loss));
        differing += bf16.steps[i].loss != fp32.steps[i].loss;
        EXPECT_NEAR(bf16.steps[i].loss, fp32.steps[i].loss, 0.25) << "step " << i + 1;
    }
    EXPECT_GT(differing, static_cast<int>(fp32.steps.size()) / 2);
    EXPECT_GT(task_il_percent(bf16.rows, 0, 0), 70.0);
    EXPECT_GT(task_il_percent(bf16.rows, 1, 1), 70.0);
}

// fp16 autocast with the loss scaler trains too; a start scale of 2^16 on this tiny model stays finite.
TEST(PrecisionLoop, Fp16WithLossScalingTrainsAboveChance) {
    TempDir dir("fp16");
    nlohmann::json doc = loop_config(dir.path);
    doc["train"]["precision"] = "fp16";
    Recorded fp16 = run(doc);
    ASSERT_EQ(fp16.status, RunStatus::finished) << fp16.message;
    ASSERT_EQ(fp16.steps.size(), 40u);
    for (const auto& s : fp16.steps) EXPECT_TRUE(std::isfinite(s.loss));
    EXPECT_GT(task_il_percent(fp16.rows, 0, 0), 70.0);
    EXPECT_GT(task_il_percent(fp16.rows, 1, 1), 70.0);
}

// `device = cuda` where no GPU is usable: lorica-cli refuses the config before anything runs, exit 2,
// naming the field.
TEST(DeviceSelection, CudaWithoutAGpuIsAConfigErrorNamingDevice) {
    if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is present";
    TempDir dir("device-cuda");
    lorica::testing::write_tiny_fashion_mnist(dir.path / "data", 10, 12, 6);
    for (const std::string device : {"cuda", "cuda:1"}) {
        nlohmann::json doc = lorica::testing::tiny_run_config(dir.path / "data", dir.path / "cache");
        doc["device"] = device;
        lorica::testing::write_text(dir.path / "c.json", doc.dump());
        auto result = lorica::testing::run_cli_to(
            {"run", "--config", (dir.path / "c.json").string(), "--db", (dir.path / "r.db").string()},
            dir.path / "log");
        EXPECT_EQ(result.exit_code, 2) << result.output;
        EXPECT_NE(result.output.find("device"), std::string::npos) << result.output;
        EXPECT_NE(result.output.find("no CUDA device"), std::string::npos) << result.output;
        EXPECT_NE(result.output.find("1 problem"), std::string::npos) << result.output;  // only the device
    }
    // auto picks the CPU here and runs.
    nlohmann::json doc = lorica::testing::tiny_run_config(dir.path / "data", dir.path / "cache");
    doc["device"] = "auto";
    lorica::testing::write_text(dir.path / "c.json", doc.dump());
    auto result = lorica::testing::run_cli_to(
        {"run", "--config", (dir.path / "c.json").string(), "--db", (dir.path / "auto.db").string()}, dir.path / "log");
    EXPECT_EQ(result.exit_code, 0) << result.output;
}
