// fp32 on the CPU is bit-reproducible: the same config run twice in one process gives the same
// digest of every loss, learning rate and evaluation row, and so does the same config with the
// losses read back in blocks (train.loss_readback_steps, engine/train/loss_readback.h) instead of
// every step.
//
// The digest is FNV-1a (64 bit) over, in event order: every FoundationProgress (step, loss as its
// IEEE-754 bits), every StepMetrics (task, epoch, step, step_in_task, loss bits, lr bits) and every
// EvalRow (after_task, eval_task, step, phase, head mode, correct, total). Exact doubles: any
// non-determinism (uninitialised memory, a racy reduction, a kernel whose order depends on the
// thread schedule) changes it. One intra-op thread.
//
// Why no stored constants: digests recorded once are a property of the CPU family as well as of the
// code (MKL and oneDNN pick kernels per instruction set: an AMD EPYC with AVX-512 rounds differently
// from the machine the first constants were recorded on), so a stored digest fails on a new machine
// for no fault of the code. That the fast CPU paths (engine/model/model_paths.h) compute what the
// previous paths computed, within rounding, is tests/unit/engine/cpu_fast_paths_test.cpp.
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/support/two_task_experiment.h"
#include "engine/config/experiment_config.h"
#include "engine/services/experiment_runner.h"
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

// 24 stream steps (6 per epoch), evaluation before, during (every 4 steps) and after each task
// (tests/support/two_task_experiment.h).
nlohmann::json two_task_config(const fs::path& dir, const std::string& method) {
    return lorica::testing::two_task_experiment_config(dir, method, "digest");
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

void expect_reproducible(const std::string& method) {
    TempDir dir("digest-" + method);
    const nlohmann::json base = two_task_config(dir.path, method);
    const Digest first = digest_of(base);
    ASSERT_EQ(first.status, RunStatus::finished);
    EXPECT_EQ(first.steps, 24);
    EXPECT_GT(first.eval_rows, 0);

    TempDir dir2("digest-again-" + method);  // a fresh cache: the foundation step is trained again
    const Digest again = digest_of(two_task_config(dir2.path, method));
    EXPECT_EQ(hex(again.value), hex(first.value)) << "the same run twice differs";

    TempDir dir3("digest-blocks-" + method);
    nlohmann::json blocks = two_task_config(dir3.path, method);
    blocks["train"]["loss_readback_steps"] = 5;
    const Digest block_read = digest_of(blocks);
    EXPECT_EQ(block_read.steps, first.steps);
    EXPECT_EQ(block_read.eval_rows, first.eval_rows);
    EXPECT_EQ(hex(block_read.value), hex(first.value)) << "loss read-back in blocks of 5 differs";
}

}  // namespace

TEST(Fp32CpuDigest, SequentialLoRAIsBitReproducible) { expect_reproducible("sequential-lora"); }

TEST(Fp32CpuDigest, SDLoRAIsBitReproducible) { expect_reproducible("sd-lora"); }
