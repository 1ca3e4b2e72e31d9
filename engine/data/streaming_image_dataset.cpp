#include "engine/data/streaming_image_dataset.h"

#include <torch/torch.h>

#include "engine/data/data_error.h"

namespace lorica {

namespace {
std::shared_ptr<const ImageStore> file_store(const std::vector<ImageEntry>& entries, int channels) {
    if (channels != 1 && channels != 3) throw std::invalid_argument("StreamingImageDataset: channels must be 1 or 3");
    return std::make_shared<const FileImageStore>(entries, channels);
}
}  // namespace

StreamingImageDataset::StreamingImageDataset(std::vector<ImageEntry> entries, StreamingImageOptions options)
    : StreamingImageDataset(file_store(entries, options.channels), options) {
    for (const auto& e : entries) labels_.push_back(e.label);
}

StreamingImageDataset::StreamingImageDataset(std::shared_ptr<const ImageStore> store, StreamingImageOptions options)
    : store_(std::move(store)), options_(std::move(options)) {
    if (!store_) throw std::invalid_argument("StreamingImageDataset: no image store");
    if (options_.workers > 0) workers_ = std::make_unique<DecodePool>(options_.workers);
}

StreamingImageDataset::~StreamingImageDataset() {
    workers_.reset();  // drops the decodes not started, waits for those running
}

void StreamingImageDataset::prefetch(const std::vector<int64_t>& indices) {
    if (!workers_) return;
    std::vector<int64_t> queued;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (int64_t i : indices) {
            if (i < 0 || i >= size() || cache_.count(i) || queued_or_decoding_.count(i)) continue;
            queued_or_decoding_.insert(i);
            queued.push_back(i);
        }
    }
    for (int64_t i : queued) workers_->submit([this, i] { decode_in_background(i); });
}

void StreamingImageDataset::decode_in_background(int64_t index) {
    std::shared_ptr<const DecodedImage> image;
    try {
        image = std::make_shared<const DecodedImage>(store_->load(index));
    } catch (const std::exception&) {
        image.reset();  // the caller decodes it again and reports the error
    }
    {
        std::lock_guard<std::mutex> lock(mutex_);
        queued_or_decoding_.erase(index);
        if (image) {
            ++stats_.background_decodes;
            insert_locked(index, std::move(image));
        }
    }
    decoded_.notify_all();
}

void StreamingImageDataset::insert_locked(int64_t index, std::shared_ptr<const DecodedImage> image) {
    if (cache_.count(index)) return;
    const size_t bytes = image->pixels.size();
    lru_.push_front(index);
    cache_[index] = Slot{std::move(image), lru_.begin()};
    stats_.cached_bytes += bytes;
    while (stats_.cached_bytes > options_.cache_bytes && lru_.size() > 1) {
        const int64_t victim = lru_.back();
        lru_.pop_back();
        stats_.cached_bytes -= cache_.at(victim).image->pixels.size();
        cache_.erase(victim);
        ++stats_.evictions;
    }
}

std::shared_ptr<const DecodedImage> StreamingImageDataset::fetch(int64_t index) {
    if (index < 0 || index >= size())
        throw std::out_of_range("StreamingImageDataset: index " + std::to_string(index) + " of " +
                                std::to_string(size()));
    {
        std::unique_lock<std::mutex> lock(mutex_);
        if (!cache_.count(index) && queued_or_decoding_.count(index)) {
            ++stats_.waits;
            decoded_.wait(lock, [&] { return cache_.count(index) || !queued_or_decoding_.count(index); });
        } else if (cache_.count(index)) {
            ++stats_.hits;
        }
        if (auto it = cache_.find(index); it != cache_.end()) {
            lru_.splice(lru_.begin(), lru_, it->second.lru);
            return it->second.image;
        }
        ++stats_.misses;
    }
    std::shared_ptr<const DecodedImage> image;
    image = std::make_shared<const DecodedImage>(store_->load(index));  // DataError naming the file
    std::lock_guard<std::mutex> lock(mutex_);
    insert_locked(index, image);
    return image;
}

torch::Tensor StreamingImageDataset::batch(const std::vector<int64_t>& indices, bool train, std::mt19937_64& rng) {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> items;
    items.reserve(indices.size());
    for (int64_t i : indices) {
        torch::Tensor x = image_to_tensor(*fetch(i));
        items.push_back(train ? train_transform(x, options_.transform, rng) : test_transform(x, options_.transform));
    }
    return torch::stack(items);
}

torch::Tensor StreamingImageDataset::labels(const std::vector<int64_t>& indices) const {
    std::vector<int64_t> y;
    for (int64_t i : indices) y.push_back(labels_.at(static_cast<size_t>(i)));
    return torch::tensor(y, torch::kInt64);
}

StreamingImageStats StreamingImageDataset::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

}  // namespace lorica
