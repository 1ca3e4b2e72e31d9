// BatchPlan (engine/data/batch_plan.h), the prefetch both sample sources share: planned batches are
// submitted `ahead` at a time, in order, as they are taken; a request off the plan drops it and is
// submitted alone; a re-plan keeps the batches in flight that it starts with. PendingBatch counts its
// jobs down and rethrows the first error.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include <torch/torch.h>

#include "engine/data/batch_plan.h"

using namespace lorica;

namespace {

// A submit function that records what it was asked for; each batch is done at once (no jobs).
struct BatchPlanRecorder {
    std::vector<int64_t> firsts;  // the first position of every submitted batch, in order
    std::vector<std::shared_ptr<PendingBatch>> made;

    BatchPlan::Submit submit() {
        return [this](const torch::Tensor& index, BatchMode, uint64_t) {
            firsts.push_back(index[0].item<int64_t>());
            made.push_back(std::make_shared<PendingBatch>(0));
            return made.back();
        };
    }
};

torch::Tensor batch_plan_batch(int64_t first) { return torch::arange(first, first + 4, torch::kInt64); }

}  // namespace

TEST(BatchPlan, BatchesTakenInPlanOrderAreSubmittedAhead) {
    BatchPlanRecorder rec;
    BatchPlan plan(2, rec.submit());
    plan.plan({batch_plan_batch(0), batch_plan_batch(4), batch_plan_batch(8), batch_plan_batch(12)}, BatchMode::train,
              7);
    EXPECT_EQ(rec.firsts, (std::vector<int64_t>{0, 4}));  // two ahead, none asked for yet
    EXPECT_EQ(plan.planned(), 4u);
    EXPECT_EQ(plan.submitted(), 2u);

    for (int64_t k = 0; k < 4; ++k) {
        const auto pending = plan.take(batch_plan_batch(4 * k), BatchMode::train, 7);
        EXPECT_EQ(pending, rec.made[static_cast<size_t>(k)]);  // the batch submitted for it, not a new one
        pending->wait();
    }
    EXPECT_EQ(rec.firsts, (std::vector<int64_t>{0, 4, 8, 12}));  // each batch submitted once, in order
    EXPECT_EQ(plan.planned(), 0u);
}

TEST(BatchPlan, NothingIsSubmittedAheadWithZeroAhead) {
    BatchPlanRecorder rec;
    BatchPlan plan(0, rec.submit());
    plan.plan({batch_plan_batch(0), batch_plan_batch(4)}, BatchMode::test, 1);
    EXPECT_TRUE(rec.firsts.empty());
    const auto pending = plan.take(batch_plan_batch(0), BatchMode::test, 1);
    EXPECT_EQ(rec.firsts, (std::vector<int64_t>{0}));  // submitted when asked for
    EXPECT_EQ(plan.planned(), 1u);
}

TEST(BatchPlan, AnOffPlanBatchDropsThePlan) {
    BatchPlanRecorder rec;
    BatchPlan plan(2, rec.submit());
    plan.plan({batch_plan_batch(0), batch_plan_batch(4), batch_plan_batch(8)}, BatchMode::train, 7);
    // Another index, then the planned index with another seed and another mode: each is off the plan.
    auto pending = plan.take(batch_plan_batch(100), BatchMode::train, 7);
    EXPECT_EQ(pending, rec.made.back());
    EXPECT_EQ(rec.firsts, (std::vector<int64_t>{0, 4, 100}));
    EXPECT_EQ(plan.planned(), 0u);

    plan.plan({batch_plan_batch(0), batch_plan_batch(4)}, BatchMode::train, 7);
    EXPECT_EQ(rec.firsts.size(), 5u);
    plan.take(batch_plan_batch(0), BatchMode::train, 8);
    EXPECT_EQ(plan.planned(), 0u);
    EXPECT_EQ(rec.firsts.size(), 6u);

    plan.plan({batch_plan_batch(0), batch_plan_batch(4)}, BatchMode::train, 7);
    plan.take(batch_plan_batch(0), BatchMode::test, 7);
    EXPECT_EQ(plan.planned(), 0u);
    // Dropped batches are not handed out later: asking for one submits it again.
    const size_t before = rec.firsts.size();
    plan.take(batch_plan_batch(4), BatchMode::train, 7);
    EXPECT_EQ(rec.firsts.size(), before + 1);
}

TEST(BatchPlan, AReplanKeepsTheMatchingHeadInFlight) {
    BatchPlanRecorder rec;
    BatchPlan plan(2, rec.submit());
    plan.plan({batch_plan_batch(0), batch_plan_batch(4), batch_plan_batch(8)}, BatchMode::train, 7);
    ASSERT_EQ(rec.firsts, (std::vector<int64_t>{0, 4}));
    const auto first = rec.made[0];

    // Same head (0), then another batch: 0 stays in flight, 4 is dropped, 20 is submitted.
    plan.plan({batch_plan_batch(0), batch_plan_batch(20), batch_plan_batch(24)}, BatchMode::train, 7);
    EXPECT_EQ(rec.firsts, (std::vector<int64_t>{0, 4, 20}));
    EXPECT_EQ(plan.submitted(), 2u);
    EXPECT_EQ(plan.take(batch_plan_batch(0), BatchMode::train, 7), first);
    EXPECT_EQ(rec.firsts, (std::vector<int64_t>{0, 4, 20, 24}));

    // A re-plan with another seed keeps nothing.
    plan.plan({batch_plan_batch(20), batch_plan_batch(24)}, BatchMode::train, 8);
    EXPECT_EQ(rec.firsts, (std::vector<int64_t>{0, 4, 20, 24, 20, 24}));
}

TEST(PendingBatch, WaitsForEveryJobAndRethrowsTheFirstError) {
    PendingBatch ok(2);
    EXPECT_FALSE(ok.done());
    ok.job_done(nullptr);
    EXPECT_FALSE(ok.done());
    ok.job_done(nullptr);
    EXPECT_TRUE(ok.done());
    EXPECT_NO_THROW(ok.wait());

    PendingBatch failed(3);
    failed.job_done(std::make_exception_ptr(std::runtime_error("first")));
    failed.job_done(std::make_exception_ptr(std::runtime_error("second")));
    failed.job_done(nullptr);
    try {
        failed.wait();
        FAIL() << "no error";
    } catch (const std::runtime_error& e) {
        EXPECT_STREQ(e.what(), "first");
    }
}

TEST(BatchPlan, ABatchThatFailedIsHandedOutWithItsError) {
    std::vector<std::shared_ptr<PendingBatch>> made;
    BatchPlan plan(1, [&](const torch::Tensor&, BatchMode, uint64_t) {
        auto p = std::make_shared<PendingBatch>(1);
        p->job_done(std::make_exception_ptr(std::runtime_error("bad image")));
        made.push_back(p);
        return p;
    });
    plan.plan({batch_plan_batch(0), batch_plan_batch(4)}, BatchMode::train, 1);
    // Re-planning drops 0 (its error ignored); the error of a batch taken reaches the caller.
    EXPECT_NO_THROW(plan.plan({batch_plan_batch(4)}, BatchMode::train, 1));
    EXPECT_THROW(plan.take(batch_plan_batch(4), BatchMode::train, 1)->wait(), std::runtime_error);
}
