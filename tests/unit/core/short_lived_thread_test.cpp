// run_on_short_lived_thread (engine/util/short_lived_thread.h): the work runs on another thread that
// has ended when the call returns; its result comes back, its exception is rethrown on the caller.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <memory>
#include <thread>

#include "engine/util/short_lived_thread.h"

using lorica::run_on_short_lived_thread;

TEST(ShortLivedThread, ReturnsTheResultComputedOnAnotherThread) {
    const std::thread::id caller = std::this_thread::get_id();
    std::thread::id worker;
    const std::string result = run_on_short_lived_thread([&] {
        worker = std::this_thread::get_id();
        return std::string("checked");
    });
    EXPECT_EQ(result, "checked");
    EXPECT_NE(worker, caller);
    EXPECT_NE(worker, std::thread::id());
}

TEST(ShortLivedThread, RethrowsTheWorkersExceptionOnTheCaller) {
    EXPECT_THROW(run_on_short_lived_thread([]() -> int { throw std::invalid_argument("data.root: no such folder"); }),
                 std::invalid_argument);
    int runs = 0;
    EXPECT_THROW(run_on_short_lived_thread([&] {
                     ++runs;
                     throw std::runtime_error("void work");
                 }),
                 std::runtime_error);
    EXPECT_EQ(runs, 1);
}

TEST(ShortLivedThread, MoveOnlyResultsComeBack) {
    auto p = run_on_short_lived_thread([] { return std::make_unique<int>(42); });
    ASSERT_TRUE(p);
    EXPECT_EQ(*p, 42);
}
