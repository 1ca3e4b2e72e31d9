#include "engine/data/prepared/prepared_samples.h"

#include <algorithm>
#include <exception>
#include <random>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/data/domain_transform.h"
#include "engine/data/prepared/prepared_crop.h"
#include "engine/runtime/device_transfer.h"
#include "engine/util/seed_mix.h"

namespace lorica {

struct PreparedSamples::State {
    std::shared_ptr<const PreparedSplit> split;
    std::vector<int64_t> members;  // split index of each position
    SampleNormalisation norm;
    bool identity = true;  // norm.domain == identity: the table holds mean/std too
    std::unique_ptr<CropNormaliser> normaliser;
    torch::Tensor mean, std;  // float [C, 1, 1] when not identity (undefined = none)
    int channels = 3;

    int64_t size() const { return split->transform.size; }

    // Sample `position` as uint8 [size, size, C] into `out`.
    void crop(int64_t position, BatchMode mode, uint64_t seed, uint8_t* out) const {
        if (position < 0 || position >= static_cast<int64_t>(members.size()))
            throw std::out_of_range("prepared samples: position " + std::to_string(position) + " of " +
                                    std::to_string(members.size()));
        const int64_t i = members[static_cast<size_t>(position)];
        const PreparedImage image = split->images->image(i);
        if (mode == BatchMode::test) {
            center_crop_into(image, size(), out);
            return;
        }
        // The decode path's draws (train_transform): the box on the source size, then the flip.
        const ImageTransformOptions& t = split->transform;
        std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(i)));
        const CropBox box = random_resized_crop_box(image.source_height, image.source_width, t, rng);
        const bool flip = t.horizontal_flip && std::bernoulli_distribution(0.5)(rng);
        crop_resize_into(image, map_crop_box(box, image.source_height, image.source_width, image.height, image.width),
                         size(), flip, out);
    }

    // One crop uint8 [size, size, C] → float [C, size, size] at `out`.
    void normalise(const uint8_t* crop, float* out) const {
        const int64_t s = size();
        (*normaliser)(crop, s * s, out);
        if (identity) return;
        torch::Tensor x = torch::from_blob(out, {1, channels, s, s}, torch::kFloat32);
        torch::Tensor y = apply_domain_transform(x, norm.domain, norm.patch_permutation);
        if (mean.defined()) y = (y - mean) / std;
        x.copy_(y);
    }
};

struct PreparedSamples::Pending : PendingBatch {
    using PendingBatch::PendingBatch;
    torch::Tensor crops;   // uint8 [B, size, size, C]
    torch::Tensor floats;  // float [B, C, size, size] when the jobs normalise too (undefined otherwise)
};

PreparedSamples::PreparedSamples(std::shared_ptr<const PreparedSplit> split, std::vector<int64_t> members,
                                 SampleNormalisation norm, int prefetch_batches)
    : plan_(prefetch_batches, [this](const torch::Tensor& index, BatchMode mode, uint64_t seed) {
          return std::shared_ptr<PendingBatch>(submit(index, mode, seed));
      }) {
    auto state = std::make_shared<State>();
    state->split = std::move(split);
    state->members = std::move(members);
    state->norm = std::move(norm);
    state->channels = state->split->images->channels();
    state->identity = state->norm.domain == "identity";
    const auto& n = state->norm;
    const int c = state->channels;
    if (!n.mean.empty() && (static_cast<int>(n.mean.size()) != c || n.std.size() != n.mean.size()))
        throw ConfigError("data.normalize_mean", "has " + std::to_string(n.mean.size()) +
                                                     " entries but the images have " + std::to_string(c) + " channels");
    if (state->identity) {
        state->normaliser = std::make_unique<CropNormaliser>(c, n.mean, n.std);
    } else {
        (void)apply_domain_transform(torch::zeros({1, c, 4, 4}), n.domain, n.patch_permutation);  // unknown: throws
        state->normaliser = std::make_unique<CropNormaliser>(c, std::vector<double>{}, std::vector<double>{});
        if (!n.mean.empty()) {
            state->mean = torch::tensor(n.mean, torch::kFloat32).view({c, 1, 1});
            state->std = torch::tensor(n.std, torch::kFloat32).view({c, 1, 1});
        }
    }
    state_ = std::move(state);
}

PreparedSamples::~PreparedSamples() = default;  // plan_ waits for the jobs in flight

int64_t PreparedSamples::size() const { return static_cast<int64_t>(state_->members.size()); }

torch::Tensor PreparedSamples::spare_or_empty(torch::IntArrayRef sizes, torch::ScalarType dtype) {
    for (auto it = spare_.begin(); it != spare_.end(); ++it)
        if (it->sizes() == sizes && it->scalar_type() == dtype && it->use_count() == 1 &&
            it->storage().use_count() == 1) {  // nobody else holds it, nor a view of it
            torch::Tensor t = std::move(*it);
            spare_.erase(it);
            return t;
        }
    return torch::empty(sizes, torch::TensorOptions().dtype(dtype));
}

void PreparedSamples::retire(const Pending& done) {
    for (const torch::Tensor& t : {done.crops, done.floats})
        if (t.defined() && !t.is_pinned()) spare_.push_back(t);
    while (spare_.size() > kSpareBuffers) spare_.pop_front();
}

std::shared_ptr<PreparedSamples::Pending> PreparedSamples::submit(const torch::Tensor& index_in, BatchMode mode,
                                                                  uint64_t seed) {
    const torch::Tensor index = index_in.to(torch::kCPU, torch::kInt64).contiguous();
    const int64_t b = index.size(0), s = state_->size(), c = state_->channels;
    auto pending = std::make_shared<Pending>(b);
    // Crops that go to a device start in pinned memory, so the upload copies them once, asynchronously
    // (the caching host allocator keeps them until the copy is done: never reused here).
    if (!normalise_on_host_ && torch::cuda::is_available())
        pending->crops = torch::empty({b, s, s, c}, torch::TensorOptions().dtype(torch::kUInt8).pinned_memory(true));
    else
        pending->crops = spare_or_empty({b, s, s, c}, torch::kUInt8);
    if (normalise_on_host_) pending->floats = spare_or_empty({b, c, s, s}, torch::kFloat32);
    const int64_t* positions = index.data_ptr<int64_t>();
    for (int64_t k = 0; k < b; ++k) {
        const int64_t position = positions[k];
        // The job holds the state by address: this source waits for every job it submitted.
        state_->split->pool->submit([state = state_.get(), pending, k, position, mode, seed] {
            std::exception_ptr error;
            try {
                torch::NoGradGuard no_grad;
                uint8_t* crop = pending->crops.data_ptr<uint8_t>() + k * pending->crops.stride(0);
                state->crop(position, mode, seed, crop);
                if (pending->floats.defined())
                    state->normalise(crop, pending->floats.data_ptr<float>() + k * pending->floats.stride(0));
            } catch (...) {
                error = std::current_exception();
            }
            pending->job_done(error);
        });
    }
    return pending;
}

void PreparedSamples::plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed) {
    plan_.plan(batches, mode, seed);
}

torch::Tensor PreparedSamples::batch(const torch::Tensor& index, BatchMode mode, uint64_t seed) {
    return batch_on(index, mode, seed, torch::kCPU);
}

torch::Tensor PreparedSamples::batch_on(const torch::Tensor& index, BatchMode mode, uint64_t seed,
                                        torch::Device device) {
    const bool on_host = device.is_cpu() || !state_->identity;
    normalise_on_host_ = on_host;  // for the batches submitted from here on
    const std::shared_ptr<PendingBatch> taken = plan_.take(index, mode, seed);
    taken->wait();
    const Pending* pending = static_cast<const Pending*>(taken.get());  // plan_ hands out what submit made
    retire(*pending);
    if (!on_host) {
        if (!device_table_.defined() || device_table_.device() != device)
            device_table_ = state_->normaliser->table().to(device);
        return normalise_crops(to_device(pending->crops, device), device_table_);
    }
    torch::Tensor x = pending->floats;
    if (!x.defined()) {  // planned for a device: normalise here
        torch::NoGradGuard no_grad;
        const int64_t b = pending->crops.size(0), s = state_->size(), c = state_->channels;
        x = spare_or_empty({b, c, s, s}, torch::kFloat32);
        for (int64_t k = 0; k < b; ++k)
            state_->normalise(pending->crops.data_ptr<uint8_t>() + k * pending->crops.stride(0),
                              x.data_ptr<float>() + k * x.stride(0));
    }
    return to_device(x, device);
}

torch::Tensor PreparedSamples::crops(const torch::Tensor& index_in, BatchMode mode, uint64_t seed) {
    torch::NoGradGuard no_grad;
    const torch::Tensor index = index_in.to(torch::kCPU, torch::kInt64).contiguous();
    const int64_t b = index.size(0), s = state_->size();
    torch::Tensor out = torch::empty({b, s, s, state_->channels}, torch::kUInt8);
    for (int64_t k = 0; k < b; ++k)
        state_->crop(index.data_ptr<int64_t>()[k], mode, seed, out.data_ptr<uint8_t>() + k * out.stride(0));
    return out;
}

}  // namespace lorica
