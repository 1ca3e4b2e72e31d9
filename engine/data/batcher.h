#pragma once
// Deterministic mini-batching and light augmentation.
//
// Epoch e of a data set of n samples visits the permutation drawn by a CPU generator seeded with
// mix_seed(seed, e): the same seed gives the same batches on every machine and device.

#include <cstdint>
#include <vector>

#include <ATen/core/Generator.h>
#include <torch/types.h>

#include "engine/config/experiment_config.h"
#include "engine/util/seed_mix.h"

namespace lorica {

class Batcher {
public:
    Batcher(int64_t samples, int64_t batch_size, uint64_t seed, bool shuffle = true);
    int64_t batches_per_epoch() const { return (samples_ + batch_size_ - 1) / batch_size_; }
    // Index tensors (int64, CPU) of the batches of epoch `epoch`; the last batch may be smaller.
    std::vector<torch::Tensor> epoch(int64_t epoch) const;

private:
    int64_t samples_, batch_size_;
    uint64_t seed_;
    bool shuffle_;
};

// images [B, C, H, W] → same shape: random crop after zero padding and/or horizontal flip, per sample,
// drawn from `generator`. Identity when both options are off.
torch::Tensor augment_batch(const torch::Tensor& images, const AugmentConfig& augment, at::Generator& generator);

}  // namespace lorica
