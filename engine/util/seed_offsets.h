#pragma once
// The run's random sub-streams: one table of the offsets that name them, so that no two share a seed
// by accident and a reader finds every one in one place.
//
// A sub-stream's seed is mix_seed(run_seed, offset + index) (seed_mix.h), index = the task, head or
// LoRI's k named in each row (0 where there is none). The values are part of every recorded result:
// changing one changes the runs it seeds.

#include <cstdint>

#include "engine/util/seed_mix.h"

namespace lorica {

enum class SeedStream : uint64_t {
    stream_head = 0x4EAD0000u,                  // + head: a stream head's initial weights (task_heads.h)
    task_batches = 0x7A5C0000u,                 // + task: the task's batch order (Batcher, per epoch)
    task_augmentation = 0xA0600000u,            // + task: the in-loop flip / crop generator
    task_batch_transforms = 0xB47C0000u,        // + task, then mix_seed(·, epoch): streamed random transforms
    task_subset = 0x5B5E0000u,                  // + first task of the data set: its subset_fraction draws
    foundation_batches = 0xF0u,                 // the foundation step's batch order
    foundation_batch_transforms = 0xF0BA7C00u,  // then mix_seed(·, epoch): its streamed random transforms
    lori_random_a = 0x10A10000u,                // + k (0 shared, the task per-task): LoRI's frozen A seed
    low_loss_copy = 0x1055C000u,                // the low-loss-region copies' LoRA init, one for all tasks
};

// mix_seed(run_seed, offset + index): the seed of one sub-stream.
inline uint64_t derived_seed(uint64_t run_seed, SeedStream stream, uint64_t index = 0) {
    return mix_seed(run_seed, static_cast<uint64_t>(stream) + index);
}

}  // namespace lorica
