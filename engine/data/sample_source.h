#pragma once
// The images of one split of one task (or of the foundation task), handed out batch by batch: what
// the trainer, the foundation step and the evaluator ask for instead of slicing a tensor.
//
// Three kinds (the data set and data.prepared decide, stream_data.h):
//   in memory  TensorSamples: float [N, C, H, W], already in the task's domain and normalised
//              (Fashion-MNIST, CIFAR at its native 32 px). `batch` is index_select: exactly the
//              tensors the trainer sliced before sources existed.
//   streamed   StreamedSamples (streamed_samples.h): image files or compact records decoded,
//              transformed and normalised per batch on background threads; nothing is held at
//              backbone resolution.
//   prepared   PreparedSamples (prepared/prepared_samples.h): the same transforms cropped from a
//              prepared set's memory-mapped 8-bit images (data.prepared) instead of decoded files.
//
// Determinism: a streamed train batch draws every random transform from mix_seed(seed, i) of each
// sample i (its position in the data set's split), so a batch depends only on (indices, mode, seed),
// never on threads, decoder count or what was cached. Callers pass a seed derived from the run seed,
// task and epoch.

#include <cstdint>
#include <vector>

#include <torch/types.h>

namespace lorica {

enum class BatchMode {
    train,  // the train transform (streamed: RandomResizedCrop + horizontal flip)
    test,   // the test transform (streamed: resize + centre crop); no randomness
};

class SampleSource {
public:
    virtual ~SampleSource() = default;
    virtual int64_t size() const = 0;
    // float [B, C, H, W] on the CPU, normalised: the samples at positions `index` (int64 [B], CPU,
    // values in [0, size())). Throws DataError naming the file of an image that cannot be decoded.
    virtual torch::Tensor batch(const torch::Tensor& index, BatchMode mode, uint64_t seed) = 0;
    // The same batch on `device`, what the trainer and the evaluator ask for. Default: `batch`, then
    // to_device (device_transfer.h: pinned + asynchronous to CUDA). A source may move part of the work
    // to the device instead (PreparedSamples uploads uint8 crops and normalises there); the values are
    // those of `batch` either way.
    virtual torch::Tensor batch_on(const torch::Tensor& index, BatchMode mode, uint64_t seed, torch::Device device);
    // Announces the batches that `batch` will be asked for next, in this order (with this mode and
    // seed), so a streamed source computes them ahead while the current one trains. Replaces the
    // previous plan. A `batch` call that does not match the plan's next entry drops the plan.
    virtual void plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed) {}
};

// In-memory samples: `images` float [N, C, H, W] (domain-transformed and normalised already).
class TensorSamples final : public SampleSource {
public:
    explicit TensorSamples(torch::Tensor images) : images_(std::move(images)) {}
    int64_t size() const override { return images_.size(0); }
    torch::Tensor batch(const torch::Tensor& index, BatchMode, uint64_t) override {
        return images_.index_select(0, index);
    }
    const torch::Tensor& images() const { return images_; }

private:
    torch::Tensor images_;
};

// int64 [end − begin] = begin, begin + 1, ..., end − 1 (the evaluator's sequential batches).
torch::Tensor index_range(int64_t begin, int64_t end);

}  // namespace lorica
