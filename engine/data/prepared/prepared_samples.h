#pragma once
// Prepared samples: a task's images read from a prepared set (prepared_images.h, memory-mapped
// 8-bit images already resized to resize_size) and cropped per batch on the DecodePool's threads —
// what data.prepared puts in place of StreamedSamples (stream_data.h), with the same batches up to
// the 8-bit rounding of the stored images.
//
// Per sample i of the split (index `members[k]` for position k of this source), prepared_crop.h:
//   train  the box of RandomResizedCrop(size) and the flip drawn exactly as StreamedSamples does
//          (std::mt19937_64(mix_seed(seed, i)), random_resized_crop_box on the SOURCE size, then the
//          flip draw), the box mapped onto the stored image, cropped, resized to size × size and
//          flipped on uint8 pixels
//   test   the centre size × size window of the stored image
//   then   uint8 [size, size, C] → float [C, size, size] through the table (v / 255 − mean) / std
//          (CropNormaliser), or, for a domain other than identity, v / 255 → the domain transform
//          → (x − mean) / std as StreamedSamples
// A batch is a pure function of (indices, mode, seed): the worker count and thread timing never
// change a value (tests check 0, 1 and 3 workers).
//
// Devices: `batch_on(…, cuda)` uploads the uint8 crops [B, size, size, C] (4× fewer bytes than the
// float batch, pinned and asynchronous: device_transfer.h) and normalises on the device
// (normalise_crops: a gather from the same table, so the values are the CPU batch's bit for bit);
// a domain other than identity is normalised on the CPU and uploaded as float. On the CPU, each job
// normalises its own sample, so the normalisation runs on the workers too. Which one a planned batch
// gets ready is the device of the last batch_on (the CPU until one names a device); a batch asked for
// on the other device is completed there — the values never depend on it.
//
// Prefetch and threading as StreamedSamples (batch_plan.h): `plan` queues the next batches, up to
// `prefetch_batches` computed ahead; used from one thread; waits for all of its jobs (batch, plan,
// destructor). Memory beyond the mapping: (prefetch_batches + 1) batches of uint8 crops and, on the
// CPU, their float batches in flight, up to kSpareBuffers buffers of earlier batches kept for reuse
// (a buffer is reused only once the caller holds neither it nor a view of it: fresh pages cost
// ~60 µs a sample in page faults at 224 px), and per worker thread a scratch of the largest crop.

#include <deque>
#include <memory>
#include <vector>

#include "engine/data/batch_plan.h"
#include "engine/data/decode_pool.h"
#include "engine/data/image_transforms.h"
#include "engine/data/prepared/prepared_images.h"
#include "engine/data/sample_source.h"
#include "engine/data/streamed_samples.h"

namespace lorica {

// What every source of one split shares.
struct PreparedSplit {
    std::shared_ptr<const PreparedImages> images;
    std::shared_ptr<DecodePool> pool;
    ImageTransformOptions transform;  // size, crop range, flip; mean/std and resize_size unused here
};

class PreparedSamples final : public SampleSource {
public:
    static constexpr int kDefaultPrefetchBatches = 2;

    PreparedSamples(std::shared_ptr<const PreparedSplit> split, std::vector<int64_t> members, SampleNormalisation norm,
                    int prefetch_batches = kDefaultPrefetchBatches);
    ~PreparedSamples() override;

    int64_t size() const override;
    torch::Tensor batch(const torch::Tensor& index, BatchMode mode, uint64_t seed) override;
    torch::Tensor batch_on(const torch::Tensor& index, BatchMode mode, uint64_t seed, torch::Device device) override;
    void plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed) override;

    // uint8 [B, size, size, C] on the CPU: the crops before normalisation (off the plan).
    torch::Tensor crops(const torch::Tensor& index, BatchMode mode, uint64_t seed);

    struct State;  // read by the pool's jobs
    struct Pending;

private:
    std::shared_ptr<Pending> submit(const torch::Tensor& index, BatchMode mode, uint64_t seed);
    // A CPU buffer of a batch handed out before that nobody holds any more, or a new one.
    torch::Tensor spare_or_empty(torch::IntArrayRef sizes, torch::ScalarType dtype);
    void retire(const Pending& done);  // its buffers become spares once the caller lets go of them

    static constexpr size_t kSpareBuffers = 8;

    std::shared_ptr<const State> state_;
    bool normalise_on_host_ = true;    // what jobs submitted from now on also do
    torch::Tensor device_table_;       // the normaliser's table on the last CUDA device
    std::deque<torch::Tensor> spare_;  // buffers of earlier batches (unpinned, CPU), newest last
    BatchPlan plan_;                   // last: destroyed first, waiting for the jobs that read the state
};

}  // namespace lorica
