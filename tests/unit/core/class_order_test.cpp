// numpy's legacy RandomState permutation, reproduced exactly (engine/stream/class_order.h).
//
// Reference values were produced with numpy 2.4.6 (legacy RandomState, unchanged since numpy 1.x):
//   python3 -c "import numpy as np; r = np.random.RandomState(0); print(r.permutation(10).tolist()); \
//               print(r.permutation(10).tolist())"
// and likewise for the other seeds named below.

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/stream/class_order.h"

namespace lorica {
namespace {

TEST(ClassOrder, ReproducesEveryPublishedOrder) {
    const std::string path = std::string(LORICA_TEST_DATA_DIR) + "/class_orders.json";
    std::ifstream file(path);
    ASSERT_TRUE(file) << "cannot open " << path;
    const auto json = nlohmann::json::parse(file);
    // The note says: order = np.random.seed(seed); np.random.permutation(n).tolist().
    ASSERT_TRUE(json.contains("note"));
    const std::regex key_pattern(R"(n(\d+)_seed(\d+))");
    int checked = 0;
    for (const auto& [key, value] : json.items()) {
        if (key == "note") continue;
        std::smatch match;
        ASSERT_TRUE(std::regex_match(key, match, key_pattern)) << "unexpected key " << key;
        const int n = std::stoi(match[1].str());
        const int64_t seed = std::stoll(match[2].str());
        const auto expected = value.get<std::vector<int>>();
        ASSERT_EQ(static_cast<int>(expected.size()), n) << key;
        EXPECT_EQ(class_order(seed, n), expected) << key;
        ++checked;
    }
    EXPECT_EQ(checked, 15);  // seeds 1993..1997 × C ∈ {100, 200, 345}
}

TEST(ClassOrder, SuccessiveCallsContinueTheStream) {
    LegacyRandomState state(0);
    // np.random.RandomState(0).permutation(10)
    EXPECT_EQ(state.permutation(10), (std::vector<int>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}));
    // the second r.permutation(10) on that same RandomState(0)
    EXPECT_EQ(state.permutation(10), (std::vector<int>{3, 5, 1, 2, 9, 8, 0, 6, 7, 4}));

    LegacyRandomState other(1993);
    // r = np.random.RandomState(1993); r.permutation(5), then r.permutation(7)
    EXPECT_EQ(other.permutation(5), (std::vector<int>{0, 2, 3, 4, 1}));
    EXPECT_EQ(other.permutation(7), (std::vector<int>{4, 2, 1, 6, 0, 3, 5}));
}

TEST(ClassOrder, TinyPermutationsDrawNothing) {
    // r = np.random.RandomState(7); r.permutation(1) -> [0]; r.permutation(0) -> []; r.permutation(6) gives the
    // same [3, 5, 0, 2, 1, 4] as a fresh RandomState(7).permutation(6): sizes 0 and 1 consume no draws.
    LegacyRandomState state(7);
    EXPECT_EQ(state.permutation(1), (std::vector<int>{0}));
    EXPECT_TRUE(state.permutation(0).empty());
    EXPECT_EQ(state.permutation(6), (std::vector<int>{3, 5, 0, 2, 1, 4}));
}

TEST(ClassOrder, LargestSeed) {
    // np.random.RandomState(4294967295).permutation(10)
    EXPECT_EQ(class_order(4294967295LL, 10), (std::vector<int>{6, 9, 5, 1, 8, 0, 7, 4, 2, 3}));
}

TEST(ClassOrder, SeedingIsInitGenrand) {
    // numpy's mt19937_seed is Matsumoto–Nishimura's init_genrand, which std::mt19937(seed) implements.
    for (uint32_t seed : {0u, 1u, 1993u, 5489u, 4294967295u}) {
        LegacyRandomState state(seed);
        std::mt19937 reference(seed);
        for (int i = 0; i < 1000; ++i) ASSERT_EQ(state.next_uint32(), reference()) << "seed " << seed << " draw " << i;
    }
    // 64-bit words are two 32-bit draws, high word first.
    LegacyRandomState state(42);
    std::mt19937 reference(42);
    const uint64_t high = reference();
    const uint64_t low = reference();
    EXPECT_EQ(state.next_uint64(), (high << 32) | low);
}

TEST(ClassOrder, RandomIntervalStaysInRange) {
    LegacyRandomState state(3);
    EXPECT_EQ(state.random_interval(0), 0u);
    for (uint64_t max : {1ull, 2ull, 5ull, 100ull, 0xffffffffull, 0x1'0000'0005ull}) {
        for (int i = 0; i < 200; ++i) EXPECT_LE(state.random_interval(max), max);
    }
}

TEST(ClassOrder, RejectsOutOfRangeArguments) {
    // numpy: ValueError "Seed must be between 0 and 2**32 - 1" for -1 and 2**32.
    EXPECT_THROW(LegacyRandomState(-1), std::invalid_argument);
    EXPECT_THROW(LegacyRandomState(4294967296LL), std::invalid_argument);
    EXPECT_THROW(class_order(0, -1), std::invalid_argument);
}

}  // namespace
}  // namespace lorica
