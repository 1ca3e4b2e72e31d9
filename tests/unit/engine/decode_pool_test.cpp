// The data layer's thread pool: for_each_index runs every index exactly once, on the pool's threads
// and the caller's, and returns only when all have run; jobs submitted run in submission order on a
// one-thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "engine/data/decode_pool.h"

using namespace lorica;

TEST(DecodePool, ForEachIndexRunsEveryIndexOnceAndWaits) {
    for (int threads : {0, 1, 3}) {
        DecodePool pool(threads);
        const int64_t n = 1000;
        std::vector<std::atomic<int>> calls(n);
        std::mutex mutex;
        std::set<std::thread::id> ran_on;
        pool.for_each_index(n, [&](int64_t i) {
            calls[static_cast<size_t>(i)]++;
            std::lock_guard<std::mutex> lock(mutex);
            ran_on.insert(std::this_thread::get_id());
        });
        for (int64_t i = 0; i < n; ++i) ASSERT_EQ(calls[static_cast<size_t>(i)].load(), 1) << "index " << i;
        EXPECT_LE(ran_on.size(), static_cast<size_t>(threads + 1));
        if (threads == 0) {
            EXPECT_EQ(ran_on, std::set<std::thread::id>{std::this_thread::get_id()});
        }
        pool.for_each_index(0, [&](int64_t) { ADD_FAILURE() << "no index to run"; });
    }
}

TEST(DecodePool, OneThreadRunsJobsInSubmissionOrder) {
    std::vector<int> order;
    {
        DecodePool pool(1);
        for (int k = 0; k < 50; ++k) pool.submit([&order, k] { order.push_back(k); });
        pool.for_each_index(1, [](int64_t) {});  // the helper job is queued behind the 50: all have run
    }
    ASSERT_EQ(order.size(), 50u);
    for (int k = 0; k < 50; ++k) EXPECT_EQ(order[static_cast<size_t>(k)], k);
}
