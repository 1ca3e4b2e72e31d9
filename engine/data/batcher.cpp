#include "engine/data/batcher.h"

#include <torch/torch.h>

namespace lorica {

Batcher::Batcher(int64_t samples, int64_t batch_size, uint64_t seed, bool shuffle)
    : samples_(samples), batch_size_(batch_size), seed_(seed), shuffle_(shuffle) {
    TORCH_CHECK(samples > 0, "Batcher: the data set is empty");
    TORCH_CHECK(batch_size > 0, "Batcher: batch size must be positive");
}

std::vector<torch::Tensor> Batcher::epoch(int64_t epoch) const {
    torch::Tensor order;
    if (shuffle_) {
        auto gen = at::detail::createCPUGenerator(mix_seed(seed_, static_cast<uint64_t>(epoch)));
        order = torch::randperm(samples_, gen, torch::kInt64);
    } else {
        order = torch::arange(samples_, torch::kInt64);
    }
    std::vector<torch::Tensor> batches;
    for (int64_t start = 0; start < samples_; start += batch_size_)
        batches.push_back(order.slice(0, start, std::min(samples_, start + batch_size_)));
    return batches;
}

torch::Tensor augment_batch(const torch::Tensor& images, const AugmentConfig& augment, at::Generator& generator) {
    torch::Tensor x = images;
    const int64_t b = x.size(0), h = x.size(2), w = x.size(3);
    if (augment.random_crop_padding > 0) {
        const int64_t pad = augment.random_crop_padding;
        auto padded = torch::constant_pad_nd(x, {pad, pad, pad, pad});
        auto offsets = torch::randint(0, 2 * pad + 1, {b, 2}, generator, torch::kInt64);
        std::vector<torch::Tensor> crops;
        crops.reserve(b);
        auto acc = offsets.accessor<int64_t, 2>();
        for (int64_t i = 0; i < b; ++i)
            crops.push_back(padded[i].slice(1, acc[i][0], acc[i][0] + h).slice(2, acc[i][1], acc[i][1] + w));
        x = torch::stack(crops);
    }
    if (augment.horizontal_flip) {
        auto flip = torch::rand({b}, generator) < 0.5;
        x = torch::where(flip.view({b, 1, 1, 1}).to(x.device()), x.flip({3}), x);
    }
    return x;
}

}  // namespace lorica
