#pragma once
// Seeds for independent sub-streams (epochs, tasks, heads, LoRI's random A) derived from one run seed.
//
// mix_seed is SplitMix64 of (a, b): deterministic on every machine and device, and distinct inputs give
// statistically independent outputs. Callers name their sub-stream with a constant offset in b, one
// table of them for the whole run: seed_offsets.h (e.g. derived_seed(seed, SeedStream::task_batches,
// task) = mix_seed(seed, 0x7A5C0000 + task) for task batching).

#include <cstdint>

namespace lorica {

uint64_t mix_seed(uint64_t a, uint64_t b);

}  // namespace lorica
