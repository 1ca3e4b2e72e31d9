#include "engine/data/streamed_samples.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>

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

struct StreamedSamples::Pending {
    torch::Tensor out;  // float [B, C, size, size]
    std::mutex mutex;
    std::condition_variable done;
    int64_t remaining = 0;
    std::exception_ptr error;

    torch::Tensor wait() {
        std::unique_lock<std::mutex> lock(mutex);
        done.wait(lock, [&] { return remaining == 0; });
        if (error) std::rethrow_exception(error);
        return out;
    }
};

StreamedSamples::StreamedSamples(std::shared_ptr<const StreamedSplit> split, std::vector<int64_t> members,
                                 SampleNormalisation norm, int prefetch_batches)
    : prefetch_batches_(std::max(0, prefetch_batches)) {
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

StreamedSamples::~StreamedSamples() {
    // Jobs in flight own the state and their batch; waiting here keeps the pool free for the next user.
    for (auto& p : plan_)
        if (p.pending) try {
                (void)p.pending->wait();
            } catch (...) {}
}

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
    auto pending = std::make_shared<Pending>();
    pending->out = torch::empty({b, state_->split->channels, t.size, t.size}, torch::kFloat32);
    pending->remaining = b;
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
            std::lock_guard<std::mutex> lock(pending->mutex);
            if (error && !pending->error) pending->error = error;
            if (--pending->remaining == 0) pending->done.notify_all();
        });
    }
    if (b == 0) pending->remaining = 0;
    return pending;
}

void StreamedSamples::top_up() {
    int submitted = 0;
    for (auto& p : plan_) {
        if (submitted >= prefetch_batches_) break;
        if (!p.pending) p.pending = submit(p.index, p.mode, p.seed);
        ++submitted;
    }
}

void StreamedSamples::plan(const std::vector<torch::Tensor>& batches, BatchMode mode, uint64_t seed) {
    // Batches already in flight that the new plan starts with are kept; the rest is dropped.
    std::deque<Planned> next;
    for (const auto& b : batches) next.push_back({b, mode, seed, nullptr});
    for (size_t k = 0; k < next.size() && k < plan_.size(); ++k) {
        const Planned& old = plan_[k];
        if (!old.pending || old.mode != mode || old.seed != seed || !torch::equal(old.index, next[k].index)) break;
        next[k].pending = old.pending;
    }
    for (auto& old : plan_)  // wait for dropped jobs: they would otherwise delay the next batches
        if (old.pending &&
            std::none_of(next.begin(), next.end(), [&](const Planned& n) { return n.pending == old.pending; }))
            try {
                (void)old.pending->wait();
            } catch (...) {}
    plan_ = std::move(next);
    top_up();
}

torch::Tensor StreamedSamples::batch(const torch::Tensor& index, BatchMode mode, uint64_t seed) {
    std::shared_ptr<Pending> pending;
    if (!plan_.empty() && plan_.front().mode == mode && plan_.front().seed == seed &&
        torch::equal(plan_.front().index, index)) {
        if (!plan_.front().pending) plan_.front().pending = submit(index, mode, seed);
        pending = plan_.front().pending;
        plan_.pop_front();
        top_up();
    } else {
        plan({}, mode, seed);  // off plan: drop it
        pending = submit(index, mode, seed);
    }
    return pending->wait();
}

torch::Tensor index_range(int64_t begin, int64_t end) { return torch::arange(begin, end, torch::kInt64); }

}  // namespace lorica
