#include "engine/data/streamed_samples.h"

#include <algorithm>
#include <exception>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/data/domain_transform.h"
#include "engine/data/data_error.h"
#include "engine/util/seed_mix.h"

namespace lorica {

struct StreamedSamples::State {
    std::shared_ptr<const StreamedSplit> split;
    std::vector<int64_t> members;  // split index of each position
    SampleNormalisation norm;
    torch::Tensor mean, std;  // float [C, 1, 1] (undefined = none)

    torch::Tensor compute(int64_t position, BatchMode mode, uint64_t seed) const {
        if (position < 0 || position >= static_cast<int64_t>(members.size()))
            throw std::out_of_range("streamed samples: position " + std::to_string(position) + " of " +
                                    std::to_string(members.size()));
        const int64_t i = members[static_cast<size_t>(position)];
        const std::shared_ptr<const DecodedImage> image = split->images->decoded(i);
        torch::Tensor x = image_to_tensor(*image);  // [C, H, W] in [0, 1]
        if (mode == BatchMode::train) {
            std::mt19937_64 rng(mix_seed(seed, static_cast<uint64_t>(i)));
            x = train_transform(x, split->transform, rng);
        } else {
            x = test_transform(x, split->transform);
        }
        x = apply_domain_transform(x.unsqueeze(0), norm.domain, norm.patch_permutation).squeeze(0);
        if (mean.defined()) x = (x - mean) / std;
        return x.contiguous();
    }
};

struct StreamedSamples::Pending : PendingBatch {
    using PendingBatch::PendingBatch;
    torch::Tensor out;  // float [B, C, size, size]
};

StreamedSamples::StreamedSamples(std::shared_ptr<const StreamedSplit> split, std::vector<int64_t> members,
                                 SampleNormalisation norm, int prefetch_batches)
    : plan_(prefetch_batches, [this](const torch::Tensor& index, BatchMode mode, uint64_t seed) {
          return std::shared_ptr<PendingBatch>(submit(index, mode, seed));
      }) {
    auto state = std::make_shared<State>();
    state->split = std::move(split);
    state->members = std::move(members);
    state->norm = std::move(norm);
    const auto& n = state->norm;
    if (!n.mean.empty()) {
        const int64_t c = state->split->channels;
        if (static_cast<int64_t>(n.mean.size()) != c || n.std.size() != n.mean.size())
            throw ConfigError("data.normalize_mean", "has " + std::to_string(n.mean.size()) +
                                                         " entries but the images have " + std::to_string(c) +
                                                         " channels");
        state->mean = torch::tensor(n.mean, torch::kFloat32).view({c, 1, 1});
        state->std = torch::tensor(n.std, torch::kFloat32).view({c, 1, 1});
    }
    state_ = std::move(state);
}

StreamedSamples::~StreamedSamples() = default;  // plan_ waits for the jobs in flight

int64_t StreamedSamples::size() const { return static_cast<int64_t>(state_->members.size()); }

torch::Tensor StreamedSamples::sample(int64_t position, BatchMode mode, uint64_t seed) const {
    torch::NoGradGuard no_grad;
    return state_->compute(position, mode, seed);
}

std::shared_ptr<StreamedSamples::Pending> StreamedSamples::submit(const torch::Tensor& index_in, BatchMode mode,
                                                                  uint64_t seed) {
    const torch::Tensor index = index_in.to(torch::kCPU, torch::kInt64).contiguous();
    const int64_t b = index.size(0);
    const auto& t = state_->split->transform;
    auto pending = std::make_shared<Pending>(b);
    pending->out = torch::empty({b, state_->split->channels, t.size, t.size}, torch::kFloat32);
    const int64_t* positions = index.data_ptr<int64_t>();
    for (int64_t k = 0; k < b; ++k) {
        const int64_t position = positions[k];
        // The job holds the state by address: this source waits for every job it submitted before
        // its state goes (a job owning the state would own the pool, and could end up joining it).
        state_->split->pool->submit([state = state_.get(), pending, k, position, mode, seed] {
            std::exception_ptr error;
            try {
                torch::NoGradGuard no_grad;
                pending->out[k].copy_(state->compute(position, mode, seed));
            } catch (...) {
                error = std::current_exception();
            }
            pending->job_done(error);
        });
    }
    return pending;
}

void StreamedSamples::plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed) {
    plan_.plan(batches, mode, seed);
}

torch::Tensor StreamedSamples::batch(const torch::Tensor& index, BatchMode mode, uint64_t seed) {
    const std::shared_ptr<PendingBatch> pending = plan_.take(index, mode, seed);
    pending->wait();
    return static_cast<const Pending&>(*pending).out;  // plan_ hands out what submit made
}

torch::Tensor index_range(int64_t begin, int64_t end) { return torch::arange(begin, end, torch::kInt64); }

}  // namespace lorica
