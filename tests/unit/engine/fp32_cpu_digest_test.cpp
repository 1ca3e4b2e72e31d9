// fp32 on the CPU is bit-identical to the training loop before mixed precision, device-side loss
// accumulation and block-wise loss read-back were added (engine/train/precision.h, grad_scaler.h,
// loss_readback.h).
//
// How the reference digests were obtained: this file was written and run first, BEFORE any of that
// work (at commit a10fe35, where the step still read `loss.item()` every step and the evaluator ran
// under NoGradGuard); the digests it printed are the constants below. The digest is FNV-1a (64 bit)
// over, in event order: every FoundationProgress (step, loss as its IEEE-754 bits), every
// StepMetrics (task, epoch, step, step_in_task, loss bits, lr bits) and every EvalRow (after_task,
// eval_task, step, phase, head mode, correct, total). Exact doubles: any change in arithmetic order
// changes it. One intra-op thread, so the figure does not depend on the core count; a different
// CPU family or LibTorch build may legitimately round differently (then recompute them with the
// commit above and say so).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <string>

#include "tests/support/temp_dir.h"
#include "engine/config/experiment_config.h"
#include "engine/train/experiment_runner.h"
#include "engine/vocabulary/event_listener.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

class Fnv1a {
public:
    void add(int64_t v) { bytes(&v, sizeof v); }
    void add_double(double v) { add(static_cast<int64_t>(std::bit_cast<uint64_t>(v))); }
    uint64_t value() const { return h_; }

private:
    void bytes(const void* p, size_t n) {
        const auto* b = static_cast<const unsigned char*>(p);
        for (size_t i = 0; i < n; ++i) h_ = (h_ ^ b[i]) * 0x100000001b3ull;
    }
    uint64_t h_ = 0xcbf29ce484222325ull;
};

struct Digest {
    uint64_t value = 0;
    int64_t steps = 0;      // StepMetrics seen
    int64_t eval_rows = 0;  // EvalRows seen
    RunStatus status = RunStatus::failed;
};

class DigestListener final : public EventListener {
public:
    void on_event(const Event& event) override {
        if (const auto* f = std::get_if<FoundationProgress>(&event)) {
            h.add(f->step);
            h.add_double(f->loss);
        } else if (const auto* s = std::get_if<StepMetrics>(&event)) {
            h.add(s->task), h.add(s->epoch), h.add(s->step), h.add(s->step_in_task);
            h.add_double(s->loss), h.add_double(s->lr);
            ++steps;
        } else if (const auto* e = std::get_if<EvaluationDone>(&event)) {
            for (const auto& r : e->rows) {
                h.add(r.after_task), h.add(r.eval_task), h.add(r.step), h.add(static_cast<int64_t>(r.phase));
                h.add(static_cast<int64_t>(r.head_mode)), h.add(r.correct), h.add(r.total);
                ++rows;
            }
        }
    }
    Fnv1a h;
    int64_t steps = 0, rows = 0;
};

// Foundation 3 classes × 120 images (1 epoch), 2 tasks × 2 classes × 96 images, 2 epochs, batch 32:
// 24 stream steps (6 per epoch), evaluation before, during (every 4 steps) and after each task.
nlohmann::json two_task_config(const fs::path& dir, const std::string& method) {
    return {{"name", "digest"},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", (dir / "cache").string()},
            {"data", {{"train_per_class", 96}, {"test_per_class", 40}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 120}, {"epochs", 1}, {"batch_size", 40}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"method", {{"name", method}, {"rank", 4}, {"alpha", 4.0}}},
            {"train", {{"epochs", 2}, {"batch_size", 32}, {"optimizer", {{"lr", 2e-3}, {"head_lr", 5e-3}}}}},
            {"eval", {{"every_steps", 4}}}};
}

Digest digest_of(const nlohmann::json& doc) {
    ExperimentConfig config = parse_experiment_config(doc);
    DigestListener listener;
    CancelToken cancel;
    Digest d;
    d.status = run_experiment(config, listener, cancel);
    d.value = listener.h.value();
    d.steps = listener.steps;
    d.eval_rows = listener.rows;
    return d;
}

std::string hex(uint64_t v) {
    char buf[19];
    std::snprintf(buf, sizeof buf, "0x%016llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

TEST(Fp32CpuDigest, SequentialLoRAIsBitIdenticalToBefore) {
    TempDir dir("digest-seq");
    Digest d = digest_of(two_task_config(dir.path, "sequential-lora"));
    ASSERT_EQ(d.status, RunStatus::finished);
    EXPECT_EQ(d.steps, 24);
    EXPECT_EQ(hex(d.value), "0x07e24ab8c1b96b80") << "steps " << d.steps << ", eval rows " << d.eval_rows;
}

TEST(Fp32CpuDigest, SDLoRAIsBitIdenticalToBefore) {
    TempDir dir("digest-sd");
    Digest d = digest_of(two_task_config(dir.path, "sd-lora"));
    ASSERT_EQ(d.status, RunStatus::finished);
    EXPECT_EQ(d.steps, 24);
    EXPECT_EQ(hex(d.value), "0x91d35f9bf87358ee") << "steps " << d.steps << ", eval rows " << d.eval_rows;
}
