#include "engine/data/stream_data.h"

#include <algorithm>

#include <torch/torch.h>

#include "engine/data/domain_transform.h"
#include "engine/data/data_error.h"
#include "engine/data/image_store.h"
#include "engine/data/streamed_samples.h"

namespace lorica {
namespace {

// Indices of the images of `cls`, in data-set order: [skip, skip + take) of that class (take 0 = all).
std::vector<int64_t> class_indices(const torch::Tensor& labels, int cls, int64_t skip, int64_t take,
                                   const std::string& split) {
    auto idx = torch::nonzero(labels == cls).flatten();
    const int64_t available = idx.size(0);
    if (skip + take > available || skip >= available)
        throw DataError(split + " split has " + std::to_string(available) + " images of class " + std::to_string(cls) +
                        ", but the config asks for images [" + std::to_string(skip) + ", " +
                        std::to_string(skip + take) + ")");
    auto part = idx.slice(0, skip, take == 0 ? available : skip + take);
    return std::vector<int64_t>(part.data_ptr<int64_t>(), part.data_ptr<int64_t>() + part.size(0));
}

LabeledImages make_images(const torch::Tensor& images_u8, const torch::Tensor& labels, std::vector<int64_t> index,
                          const std::string& domain, const StreamSpec& spec, const DataConfig& data) {
    auto sel = torch::tensor(index, torch::kInt64);
    LabeledImages out;
    torch::Tensor x = images_u8.index_select(0, sel).to(torch::kFloat32) / 255.0;
    x = apply_domain_transform(x, domain, spec.patch_permutation);
    if (!data.normalize_mean.empty()) {
        const int64_t c = x.size(1);
        if (static_cast<int64_t>(data.normalize_mean.size()) != c)
            throw ConfigError("data.normalize_mean", "has " + std::to_string(data.normalize_mean.size()) +
                                                         " entries but the images have " + std::to_string(c) +
                                                         " channels");
        auto mean = torch::tensor(data.normalize_mean, torch::kFloat32).view({1, c, 1, 1});
        auto stdv = torch::tensor(data.normalize_std, torch::kFloat32).view({1, c, 1, 1});
        x = (x - mean) / stdv;
    }
    out.samples = std::make_shared<TensorSamples>(x.contiguous());
    out.labels = labels.index_select(0, sel).contiguous();
    return out;
}

LabeledImages make_streamed(const std::shared_ptr<const StreamedSplit>& split, const torch::Tensor& labels,
                            std::vector<int64_t> index, const std::string& domain, const StreamSpec& spec,
                            const DataConfig& data) {
    LabeledImages out;
    out.labels = labels.index_select(0, torch::tensor(index, torch::kInt64)).contiguous();
    out.samples = std::make_shared<StreamedSamples>(
        split, std::move(index),
        SampleNormalisation{domain, spec.patch_permutation, data.normalize_mean, data.normalize_std});
    return out;
}

// The splits of a streamed data set: a cache each (half of data.cache_mb), one decoder pool.
struct StreamedSplits {
    std::shared_ptr<const StreamedSplit> train, test;
};

StreamedSplits make_splits(const ExperimentConfig& config, const RawDataset& raw) {
    auto pool = std::make_shared<DecodePool>(resolve_data_workers(config.data.workers));
    ImageTransformOptions transform;
    transform.size = config.backbone.image_size;
    transform.resize_size = config.data.resize_size > 0 ? config.data.resize_size : config.backbone.image_size * 8 / 7;
    auto make = [&](const std::shared_ptr<const ImageStore>& store) {
        StreamingImageOptions options;
        options.channels = store->channels();
        options.cache_bytes = static_cast<size_t>(config.data.cache_mb) * (1u << 20) / 2;
        options.workers = 0;  // the pool's threads decode
        options.transform = transform;
        auto split = std::make_shared<StreamedSplit>();
        split->images = std::make_shared<StreamingImageDataset>(store, options);
        split->pool = pool;
        split->transform = transform;
        split->channels = store->channels();
        return std::shared_ptr<const StreamedSplit>(std::move(split));
    };
    return {make(raw.train_store), make(raw.test_store)};
}

}  // namespace

torch::Tensor local_labels(const torch::Tensor& labels, const std::vector<int>& classes) {
    auto out = torch::full_like(labels, -1);
    for (size_t i = 0; i < classes.size(); ++i) out.masked_fill_(labels == classes[i], static_cast<int64_t>(i));
    TORCH_CHECK(out.min().item<int64_t>() >= 0, "local_labels: a label is not among the task's classes");
    return out;
}

StreamData build_stream_data(const ExperimentConfig& config, const RawDataset& raw, int64_t seed) {
    StreamData out;
    out.spec = make_stream_spec(config, seed, raw.num_classes);
    out.class_names = raw.class_names;
    const auto& foundation = out.spec.foundation_classes;
    StreamedSplits splits;
    if (raw.streamed()) splits = make_splits(config, raw);
    auto samples = [&](bool train_split, std::vector<int64_t> index, const std::string& domain) {
        if (raw.streamed())
            return make_streamed(train_split ? splits.train : splits.test,
                                 train_split ? raw.train_labels : raw.test_labels, std::move(index), domain, out.spec,
                                 config.data);
        return make_images(train_split ? raw.train_images : raw.test_images,
                           train_split ? raw.train_labels : raw.test_labels, std::move(index), domain, out.spec,
                           config.data);
    };
    auto in_foundation = [&](int c) { return std::find(foundation.begin(), foundation.end(), c) != foundation.end(); };

    if (!foundation.empty()) {
        std::vector<int64_t> train, test;
        for (int c : foundation) {
            auto a = class_indices(raw.train_labels, c, 0, config.foundation.train_per_class, "training");
            auto b = class_indices(raw.test_labels, c, 0, config.data.test_per_class, "test");
            train.insert(train.end(), a.begin(), a.end());
            test.insert(test.end(), b.begin(), b.end());
        }
        out.foundation_train = samples(true, train, "identity");
        out.foundation_test = samples(false, test, "identity");
    }
    for (const TaskSpec& task : out.spec.tasks) {
        std::vector<int64_t> train, test;
        for (int c : task.classes) {
            const int64_t skip = in_foundation(c) ? config.foundation.train_per_class : 0;
            auto a = class_indices(raw.train_labels, c, skip, config.data.train_per_class, "training");
            auto b = class_indices(raw.test_labels, c, 0, config.data.test_per_class, "test");
            train.insert(train.end(), a.begin(), a.end());
            test.insert(test.end(), b.begin(), b.end());
        }
        TaskData td;
        td.spec = task;
        td.train = samples(true, train, task.domain);
        td.test = samples(false, test, task.domain);
        out.tasks.push_back(std::move(td));
    }
    return out;
}

}  // namespace lorica
