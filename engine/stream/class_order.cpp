#include "engine/stream/class_order.h"

#include <numeric>
#include <stdexcept>
#include <string>

namespace lorica {

namespace {

constexpr int64_t kMaxSeed = 0xffffffffLL;

uint32_t checked_seed(int64_t seed) {
    if (seed < 0 || seed > kMaxSeed)
        throw std::invalid_argument("class-order seed " + std::to_string(seed) +
                                    " is out of range: numpy's RandomState accepts seeds in [0, 2^32 - 1]");
    return static_cast<uint32_t>(seed);
}

}  // namespace

LegacyRandomState::LegacyRandomState(int64_t seed) : engine_(checked_seed(seed)) {}

uint32_t LegacyRandomState::next_uint32() { return static_cast<uint32_t>(engine_()); }

uint64_t LegacyRandomState::next_uint64() {
    const uint64_t high = next_uint32();
    const uint64_t low = next_uint32();
    return (high << 32) | low;
}

uint64_t LegacyRandomState::random_interval(uint64_t max) {
    if (max == 0) return 0;
    // Smallest bit mask >= max.
    uint64_t mask = max;
    mask |= mask >> 1;
    mask |= mask >> 2;
    mask |= mask >> 4;
    mask |= mask >> 8;
    mask |= mask >> 16;
    mask |= mask >> 32;
    uint64_t value = 0;
    if (max <= 0xffffffffULL) {
        while ((value = (next_uint32() & mask)) > max) {}
    } else {
        while ((value = (next_uint64() & mask)) > max) {}
    }
    return value;
}

std::vector<int> LegacyRandomState::permutation(int n) {
    if (n < 0) throw std::invalid_argument("permutation size must be >= 0, got " + std::to_string(n));
    std::vector<int> values(static_cast<size_t>(n));
    std::iota(values.begin(), values.end(), 0);
    shuffle(values);
    return values;
}

std::vector<int> class_order(int64_t seed, int num_classes) {
    if (num_classes < 0)
        throw std::invalid_argument("number of classes must be >= 0, got " + std::to_string(num_classes));
    LegacyRandomState state(seed);
    return state.permutation(num_classes);
}

}  // namespace lorica
