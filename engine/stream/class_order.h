#pragma once
// Class orders: numpy's legacy `RandomState(seed).permutation(n)`, reproduced bit for bit.
//
// The published continual-learning results (PyCIL, PILOT, SD-LoRA, ...) shuffle the class labels
// with `np.random.seed(seed); order = np.random.permutation(C)`, i.e. numpy's legacy Mersenne-Twister
// generator. Lorica must give the same order for the same seed, so this file re-implements exactly
// the part of numpy that call uses (numpy/random/_mt19937.pyx, mtrand.pyx, distributions.c):
//
//   seeding       `RandomState(seed)` with an integer seed in [0, 2^32 − 1] calls `mt19937_seed`,
//                 which is Matsumoto–Nishimura's `init_genrand` (the same as `std::mt19937(seed)`).
//                 numpy raises for seeds outside that range ("Seed must be between 0 and 2**32 - 1");
//                 so do we (std::invalid_argument) rather than silently masking the seed.
//   permutation   `np.arange(n)` shuffled in place by the legacy `shuffle`: Fisher–Yates from the end,
//                 `for i = n−1 … 1: j = random_interval(i); swap(x[i], x[j])`.
//   random_interval(max)   a uniform integer in [0, max] by mask rejection: mask = the smallest
//                 all-ones bit mask ≥ max; draw 32-bit words (64-bit words, each the concatenation
//                 `hi << 32 | lo` of two 32-bit draws, when max > 2^32 − 1), AND them with the mask,
//                 and reject values > max.
//
// One generator is one numpy stream: successive calls continue it, so
// `LegacyRandomState(0).permutation(10)` twice gives numpy's first and second `permutation(10)`.
// `tests/data/class_orders.json` holds the reference orders for seeds 1993–1997 and C ∈ {100, 200, 345};
// tests/unit/core/class_order_test.cpp checks every one of them.

#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace lorica {

// numpy.random.RandomState with the legacy MT19937, restricted to the draws a permutation needs.
// Not thread-safe (one generator per thread), cheap to copy (the copy continues the same stream).
class LegacyRandomState {
public:
    // seed: the integer given to numpy's `RandomState(seed)` / `np.random.seed(seed)`; must lie in
    // [0, 2^32 − 1] (numpy's range), otherwise std::invalid_argument.
    explicit LegacyRandomState(int64_t seed);

    // The next raw 32-bit word of the Mersenne Twister (numpy's `next_uint32`).
    uint32_t next_uint32();

    // The next 64-bit word, numpy's `mt19937_next64`: `(uint64_t)next_uint32() << 32 | next_uint32()`.
    uint64_t next_uint64();

    // A uniform integer in [0, max] (both ends included), numpy's `random_interval(bitgen, max)`:
    // mask rejection on 32-bit draws for max ≤ 2^32 − 1, on 64-bit draws above. max = 0 draws nothing.
    uint64_t random_interval(uint64_t max);

    // Shuffles `values` in place exactly as numpy's legacy `RandomState.shuffle` does for a 1-d array
    // (Fisher–Yates from the last element; no draws for fewer than two elements).
    template <typename T>
    void shuffle(std::vector<T>& values) {
        for (size_t i = values.size(); i-- > 1;) {
            const auto j = static_cast<size_t>(random_interval(static_cast<uint64_t>(i)));
            std::swap(values[i], values[j]);
        }
    }

    // numpy's `permutation(n)` for an integer n: `arange(n)` shuffled, i.e. `result[i]` = the original
    // index placed at position i. n: number of elements, ≥ 0 (std::invalid_argument otherwise; numpy
    // would return an empty array for negative n).
    std::vector<int> permutation(int n);

private:
    std::mt19937 engine_;  // std::mt19937(seed) is init_genrand(seed), as numpy's mt19937_seed
};

// The class order of a stream: `numpy.random.RandomState(seed).permutation(num_classes)`.
// order[i] = the original data-set label that becomes class i of the stream (tasks take consecutive
// slices of it). seed: in [0, 2^32 − 1]; num_classes: ≥ 0. Throws std::invalid_argument otherwise.
std::vector<int> class_order(int64_t seed, int num_classes);

}  // namespace lorica
