#pragma once
// A data set of image files read from disk on demand: for image folders larger than memory.
//
// Decoded images (original size, 8-bit, converted to `channels`) are kept in an LRU cache bounded by
// `cache_bytes`; `prefetch(indices)` queues images for `workers` background threads (a DecodePool of
// its own, decode_pool.h), which decode them into the cache while the caller trains on the previous
// batch. `batch()` returns the
// transformed batch: test (resize + centre crop) or train (random resized crop + flip) transform of
// image_transforms.h. A miss that is neither cached nor being decoded is decoded on the calling
// thread. Decode errors surface from `batch()` as DataError naming the file (a failed background
// decode is retried on the caller's thread, so the error carries the caller's context).
//
// The images come from an ImageStore (image_store.h: files, or compact records such as CIFAR's);
// the entries constructor reads files. `decoded(i)` is the cached 8-bit image itself, for pipelines
// that transform on their own threads (streamed_samples.h).
//
// Threading: `batch` and `prefetch` may be called from one thread (the training thread); `decoded`
// from any number of threads at once. The workers are internal; the destructor drops the decodes not
// started and joins them.

#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <random>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <torch/types.h>

#include "engine/data/decode_pool.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_folder_index.h"
#include "engine/data/image_store.h"
#include "engine/data/image_transforms.h"

namespace lorica {

struct StreamingImageOptions {
    int channels = 3;                 // 1 or 3
    size_t cache_bytes = 512u << 20;  // bound on the decoded pixels kept (default 512 MiB)
    int workers = 2;                  // background decode threads (0 = decode on demand only)
    ImageTransformOptions transform;  // sizes, crop range, flip, mean/std
};

struct StreamingImageStats {
    int64_t hits = 0;    // batch() found the image in the cache
    int64_t waits = 0;   // ... or waited for a background decode in flight
    int64_t misses = 0;  // ... or decoded it itself
    int64_t background_decodes = 0;
    int64_t evictions = 0;
    size_t cached_bytes = 0;
};

class StreamingImageDataset {
public:
    StreamingImageDataset(std::vector<ImageEntry> entries, StreamingImageOptions options);
    // Images of `store` (label() and labels() are unavailable: the store has none).
    StreamingImageDataset(std::shared_ptr<const ImageStore> store, StreamingImageOptions options);
    ~StreamingImageDataset();
    StreamingImageDataset(const StreamingImageDataset&) = delete;
    StreamingImageDataset& operator=(const StreamingImageDataset&) = delete;

    int64_t size() const { return store_->size(); }
    int label(int64_t index) const { return labels_.at(static_cast<size_t>(index)); }

    // The decoded image (cached, waited for, or decoded on the calling thread). Thread-safe.
    // Throws DataError naming the file.
    std::shared_ptr<const DecodedImage> decoded(int64_t index) { return fetch(index); }

    // Queues images for background decoding (ignored when workers = 0 or already cached/queued).
    void prefetch(const std::vector<int64_t>& indices);
    // float [batch, C, size, size]; `train` picks the random transform (using `rng`).
    torch::Tensor batch(const std::vector<int64_t>& indices, bool train, std::mt19937_64& rng);
    // int64 [batch] labels of `indices`.
    torch::Tensor labels(const std::vector<int64_t>& indices) const;

    StreamingImageStats stats() const;

private:
    std::shared_ptr<const DecodedImage> fetch(int64_t index);  // cached, waited for, or decoded here
    void insert_locked(int64_t index, std::shared_ptr<const DecodedImage> image);
    void decode_in_background(int64_t index);  // a pool job

    std::shared_ptr<const ImageStore> store_;
    std::vector<int> labels_;  // of the entries constructor; empty for a store
    StreamingImageOptions options_;

    mutable std::mutex mutex_;
    std::condition_variable decoded_;
    std::unordered_set<int64_t> queued_or_decoding_;
    std::list<int64_t> lru_;  // most recent first
    struct Slot {
        std::shared_ptr<const DecodedImage> image;
        std::list<int64_t>::iterator lru;
    };
    std::unordered_map<int64_t, Slot> cache_;
    StreamingImageStats stats_;
    // Last: destroyed first, so no job runs once the members above go. Null when workers = 0.
    std::unique_ptr<DecodePool> workers_;
};

}  // namespace lorica
