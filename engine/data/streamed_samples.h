#pragma once
// Streamed samples: a task's images read from an ImageStore (files, or CIFAR records at 32 px) and
// turned into a normalised batch per request, on the DecodePool's threads.
//
// Per sample i of the split (index `members[k]` for position k of this source):
//   decoded  the 8-bit image from the split's StreamingImageDataset (LRU cache bounded in bytes,
//            decoded on the pool thread on a miss)
//   train    RandomResizedCrop(size) + horizontal flip (image_transforms.h), randomness from a
//            std::mt19937_64 seeded with mix_seed(seed, i)
//   test     resize (shorter side, resize_size) + centre crop (size)
//   then     the task's domain transform on pixels in [0, 1], then (x − mean) / std
// so a batch is a pure function of (indices, mode, seed): the decoder count, the cache and thread
// timing never change a value (tests check 0, 1 and 3 decoders give identical batches).
//
// Prefetch: `plan` queues the next batches; up to `prefetch_batches` of them are computed ahead
// (each sample a pool job) while the caller trains (batch_plan.h). Memory held beyond the cache: at most
// (prefetch_batches + 1) float batches of this source.
//
// Threading: a source is used from one thread (the training thread); the split's dataset and pool
// are shared by every source of the run. A source waits for all of its jobs (batch, plan and the
// destructor), so no job outlives it.

#include <memory>
#include <string>
#include <vector>

#include "engine/data/batch_plan.h"
#include "engine/data/decode_pool.h"
#include "engine/data/image_transforms.h"
#include "engine/data/sample_source.h"
#include "engine/data/streaming_image_dataset.h"

namespace lorica {

// What every source of one split shares.
struct StreamedSplit {
    std::shared_ptr<StreamingImageDataset> images;  // the cache (its own workers 0: the pool decodes)
    std::shared_ptr<DecodePool> pool;
    ImageTransformOptions transform;  // size, resize_size, crop range, flip; mean/std unused here
    int channels = 3;
};

struct SampleNormalisation {
    std::string domain = "identity";     // domain_transform.h
    std::vector<int> patch_permutation;  // for patch_permute
    std::vector<double> mean, std;       // per channel; empty = none
};

class StreamedSamples final : public SampleSource {
public:
    static constexpr int kDefaultPrefetchBatches = 2;

    StreamedSamples(std::shared_ptr<const StreamedSplit> split, std::vector<int64_t> members, SampleNormalisation norm,
                    int prefetch_batches = kDefaultPrefetchBatches);
    ~StreamedSamples() override;

    int64_t size() const override;
    torch::Tensor batch(const torch::Tensor& index, BatchMode mode, uint64_t seed) override;
    void plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed) override;

    // One sample, computed on the calling thread: float [C, size, size] (the reference of a job).
    torch::Tensor sample(int64_t position, BatchMode mode, uint64_t seed) const;

    struct State;  // read by the pool's jobs
    struct Pending;

private:
    std::shared_ptr<Pending> submit(const torch::Tensor& index, BatchMode mode, uint64_t seed);

    std::shared_ptr<const State> state_;
    BatchPlan plan_;  // after state_: destroyed first, waiting for the jobs that read the state
};

}  // namespace lorica
