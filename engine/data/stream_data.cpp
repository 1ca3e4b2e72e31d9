#include "engine/data/stream_data.h"

#include <algorithm>

#include <torch/torch.h>

#include "engine/data/domain_transform.h"
#include "engine/data/data_error.h"
#include "engine/data/image_store.h"
#include "engine/data/prepared/prepared_samples.h"
#include "engine/data/prepared/prepared_sources.h"
#include "engine/data/streamed_samples.h"
#include "engine/util/seed_offsets.h"
#include "engine/runtime/host_read.h"

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
    if (!data.prepared.empty())
        throw ConfigError("data.prepared", "names " + data.prepared +
                                               ", but this data set is held in memory (Fashion-MNIST, CIFAR at 32 px): "
                                               "there is nothing to prepare; leave data.prepared empty");
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

// The splits of a streamed data set: a cache each, the run's decoder pool; or, with data.prepared,
// the prepared sets of its stores (then train and test are null).
struct StreamedSplits {
    std::shared_ptr<const StreamedSplit> train, test;
    std::shared_ptr<const PreparedSplit> prepared_train, prepared_test;
};

LabeledImages make_streamed(const StreamedSplits& splits, bool train_split, const torch::Tensor& labels,
                            std::vector<int64_t> index, const std::string& domain, const StreamSpec& spec,
                            const DataConfig& data) {
    LabeledImages out;
    out.labels = labels.index_select(0, torch::tensor(index, torch::kInt64)).contiguous();
    SampleNormalisation norm{domain, spec.patch_permutation, data.normalize_mean, data.normalize_std};
    if (const auto& prepared = train_split ? splits.prepared_train : splits.prepared_test)
        out.samples = std::make_shared<PreparedSamples>(prepared, std::move(index), std::move(norm));
    else
        out.samples = std::make_shared<StreamedSamples>(train_split ? splits.train : splits.test, std::move(index),
                                                        std::move(norm));
    return out;
}

std::shared_ptr<DecodePool> make_decode_pool(const ExperimentConfig& config) {
    return std::make_shared<DecodePool>(resolve_data_workers(config.data.workers));
}

// `cache_bytes`: each split's bound on decoded images. With data.prepared, each split opens its
// prepared set instead (PreparedImages::open checks the folder before any image is read).
StreamedSplits make_splits(const ExperimentConfig& config, const RawDataset& raw,
                           const std::shared_ptr<DecodePool>& pool, size_t cache_bytes) {
    ImageTransformOptions transform;
    transform.size = config.backbone.image_size;
    transform.resize_size = resolved_resize_size(config);
    if (!config.data.prepared.empty()) {
        const PreparedTransform stored = prepared_transform(config);
        auto open = [&](const std::shared_ptr<const ImageStore>& store) -> std::shared_ptr<const PreparedSplit> {
            if (!store) return nullptr;
            auto split = std::make_shared<PreparedSplit>();
            split->images = PreparedImages::open(config.data.prepared, *store, stored);
            split->pool = pool;
            split->transform = transform;
            return std::shared_ptr<const PreparedSplit>(std::move(split));
        };
        StreamedSplits out;
        out.prepared_train = open(raw.train_store);
        out.prepared_test = open(raw.test_store);
        return out;
    }
    auto make = [&](const std::shared_ptr<const ImageStore>& store) {
        StreamingImageOptions options;
        options.channels = store->channels();
        options.cache_bytes = cache_bytes;
        options.workers = 0;  // the pool's threads decode
        options.transform = transform;
        auto split = std::make_shared<StreamedSplit>();
        split->images = std::make_shared<StreamingImageDataset>(store, options);
        split->pool = pool;
        split->transform = transform;
        split->channels = store->channels();
        return std::shared_ptr<const StreamedSplit>(std::move(split));
    };
    return {make(raw.train_store), make(raw.test_store), nullptr, nullptr};
}

size_t half_cache_bytes(const ExperimentConfig& config) {
    return static_cast<size_t>(config.data.cache_mb) * (1u << 20) / 2;
}

// Indices of the first `take` images of each class (0 = all; fewer when a class has fewer), class by
// class in label order, data-set order within a class.
std::vector<int64_t> capped_class_indices(const torch::Tensor& labels, int num_classes, int64_t take) {
    std::vector<int64_t> out;
    if (!labels.defined() || labels.numel() == 0) return out;
    for (int c = 0; c < num_classes; ++c) {
        auto idx = torch::nonzero(labels == c).flatten();
        const int64_t n = take > 0 ? std::min<int64_t>(take, idx.size(0)) : idx.size(0);
        const int64_t* p = idx.data_ptr<int64_t>();
        out.insert(out.end(), p, p + n);
    }
    return out;
}

// The training images of data-set task t: the per-class cap, then the seeded subset (stream_data.h).
// `raw`: the data set of entry t.
std::vector<int64_t> dataset_task_train_indices(const ExperimentConfig& config, const RawDataset& raw, size_t t,
                                                int64_t seed) {
    const std::vector<DatasetTaskConfig>& entries = config.stream.datasets;
    const DatasetTaskConfig& entry = entries.at(t);
    std::vector<int64_t> all = capped_class_indices(raw.train_labels, raw.num_classes, entry.train_per_class);
    if (entry.subset_fraction >= 1.0 || all.empty()) return all;
    const auto n = static_cast<int64_t>(all.size());
    auto part_of = [n](const DatasetTaskConfig& e) {
        return std::clamp<int64_t>(static_cast<int64_t>(std::llround(e.subset_fraction * static_cast<double>(n))), 1,
                                   n);
    };
    // One permutation per data set (seeded by its first entry); its entries take consecutive parts.
    const size_t first = static_cast<size_t>(first_entry_of_dataset(config.stream, t));
    int64_t begin = 0;
    for (size_t i = first; i < t; ++i)
        if (first_entry_of_dataset(config.stream, i) == static_cast<int>(first) && entries[i].subset_fraction < 1.0 &&
            entries[i].train_per_class == entry.train_per_class)
            begin += part_of(entries[i]);
    if (begin >= n)
        throw ConfigError("stream.datasets[" + std::to_string(t) + "].subset_fraction",
                          "the earlier entries of " + dataset_task_name(entry) + " took all of its " +
                              std::to_string(n) + " training images");
    const int64_t end = std::min(n, begin + part_of(entry));
    at::Generator generator = at::detail::createCPUGenerator(
        derived_seed(static_cast<uint64_t>(seed), SeedStream::task_subset, static_cast<uint64_t>(first)));
    torch::Tensor chosen = std::get<0>(torch::sort(torch::randperm(n, generator, torch::kInt64).slice(0, begin, end)));
    std::vector<int64_t> out;
    out.reserve(static_cast<size_t>(end - begin));
    const int64_t* p = chosen.data_ptr<int64_t>();
    for (int64_t k = 0; k < end - begin; ++k) out.push_back(all[static_cast<size_t>(p[k])]);
    return out;
}

std::vector<int> task_class_counts(const RawDataset& raw) {
    std::vector<int> counts;
    for (const RawDataset& task : raw.stream_tasks) counts.push_back(task.num_classes);
    return counts;
}

// Samples of one split of a raw data set (streamed or in memory).
LabeledImages split_samples(const RawDataset& raw, const StreamedSplits& splits, bool train_split,
                            std::vector<int64_t> index, const std::string& domain, const StreamSpec& spec,
                            const DataConfig& data) {
    const torch::Tensor& labels = train_split ? raw.train_labels : raw.test_labels;
    if (index.empty()) return {};
    if (raw.streamed()) return make_streamed(splits, train_split, labels, std::move(index), domain, spec, data);
    return make_images(train_split ? raw.train_images : raw.test_images, labels, std::move(index), domain, spec, data);
}

// The foundation test set of foundation.source = weights (stream_data.h).
void add_weights_foundation(const ExperimentConfig& config, const RawDataset& foundation,
                            const std::shared_ptr<DecodePool>& pool, StreamData& out) {
    const StreamedSplits splits = make_splits(config, foundation, pool, half_cache_bytes(config));
    const std::vector<int64_t> test =
        capped_class_indices(foundation.test_labels, foundation.num_classes, config.foundation.data.test_per_class);
    auto present = std::get<0>(at::_unique(foundation.test_labels)).to(torch::kInt64).contiguous();
    out.spec.foundation_classes.assign(present.data_ptr<int64_t>(), present.data_ptr<int64_t>() + present.numel());
    out.spec.foundation_head_classes.clear();
    out.foundation_test = split_samples(foundation, splits, false, test, "identity", out.spec, config.data);
    out.foundation_class_names = foundation.class_names;
}

// A data-set stream's tasks (stream.type = datasets).
void add_dataset_tasks(const ExperimentConfig& config, const RawDataset& raw, int64_t seed,
                       const std::shared_ptr<DecodePool>& pool, StreamData& out) {
    const size_t tasks = raw.stream_tasks.size();
    const size_t cache = half_cache_bytes(config) / std::max<size_t>(tasks, 1);
    for (size_t t = 0; t < tasks; ++t) {
        const RawDataset& data = raw.stream_tasks[t];
        const StreamedSplits splits = data.streamed() ? make_splits(config, data, pool, cache) : StreamedSplits{};
        TaskData td;
        td.spec = out.spec.tasks.at(t);
        td.train = split_samples(data, splits, true, dataset_task_train_indices(config, data, t, seed), "identity",
                                 out.spec, config.data);
        td.test = split_samples(
            data, splits, false,
            capped_class_indices(data.test_labels, data.num_classes, config.stream.datasets.at(t).test_per_class),
            "identity", out.spec, config.data);
        if (td.train.size() == 0)
            throw ConfigError("stream.datasets[" + std::to_string(t) + "].root", data.name + " has no training images");
        td.class_names = data.class_names;
        if (td.spec.label_offset == static_cast<int>(out.class_names.size()))  // a data set's first entry
            out.class_names.insert(out.class_names.end(), data.class_names.begin(), data.class_names.end());
        out.tasks.push_back(std::move(td));
    }
}

}  // namespace

torch::Tensor local_labels(const torch::Tensor& labels, const std::vector<int>& classes) {
    auto out = torch::full_like(labels, -1);
    for (size_t i = 0; i < classes.size(); ++i) out.masked_fill_(labels == classes[i], static_cast<int64_t>(i));
    TORCH_CHECK(read_int(out.min()) >= 0, "local_labels: a label is not among the task's classes");
    return out;
}

StreamData build_stream_data(const ExperimentConfig& config, const RawDataset& raw, int64_t seed) {
    StreamData out;
    const bool datasets = config.stream.type == StreamType::datasets;
    if (datasets && raw.stream_tasks.size() != config.stream.datasets.size())
        throw ConfigError("stream.datasets", "lists " + std::to_string(config.stream.datasets.size()) +
                                                 " data sets, but " + std::to_string(raw.stream_tasks.size()) +
                                                 " were loaded");
    out.spec = datasets ? make_dataset_stream_spec(config, seed, task_class_counts(raw))
                        : make_stream_spec(config, seed, raw.num_classes);
    if (datasets && trains_foundation(config)) {
        // The foundation step trains on data.*'s first foundation.classes classes of its class order.
        ExperimentConfig classes_only = config;  // data.*'s class order, without stream tasks
        classes_only.stream.type = StreamType::class_incremental;
        classes_only.stream.tasks = 0;
        classes_only.stream.classes_per_task = 0;
        const StreamSpec main = make_stream_spec(classes_only, seed, raw.num_classes);
        out.spec.class_order = main.class_order;
        out.spec.foundation_classes = main.foundation_classes;
        out.spec.foundation_head_classes = main.foundation_head_classes;
    }
    if (!datasets) out.class_names = raw.class_names;
    const auto& foundation = out.spec.foundation_classes;
    std::shared_ptr<DecodePool> pool;
    auto shared_pool = [&] {
        if (!pool) pool = make_decode_pool(config);
        return pool;
    };
    StreamedSplits splits;
    if (raw.streamed()) splits = make_splits(config, raw, shared_pool(), half_cache_bytes(config));
    auto samples = [&](bool train_split, std::vector<int64_t> index, const std::string& domain) {
        if (raw.streamed())
            return make_streamed(splits, train_split, train_split ? raw.train_labels : raw.test_labels,
                                 std::move(index), domain, out.spec, config.data);
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
        out.foundation_class_names = raw.class_names;
    }
    if (config.foundation.source == FoundationSource::weights) {
        if (!raw.foundation)
            throw ConfigError("foundation.data.root", "was not loaded (foundation.source = weights needs it)");
        add_weights_foundation(config, *raw.foundation, shared_pool(), out);
    }
    if (datasets) {
        add_dataset_tasks(config, raw, seed, shared_pool(), out);
        return out;
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
        for (int c : task.classes)
            td.class_names.push_back(c < static_cast<int>(raw.class_names.size()) ? raw.class_names[c]
                                                                                  : std::to_string(c));
        out.tasks.push_back(std::move(td));
    }
    return out;
}

std::vector<int64_t> task_train_sizes(const ExperimentConfig& config, const RawDataset& raw, int64_t seed) {
    std::vector<int64_t> sizes;
    if (config.stream.type != StreamType::datasets) return sizes;
    for (size_t t = 0; t < raw.stream_tasks.size() && t < config.stream.datasets.size(); ++t)
        sizes.push_back(static_cast<int64_t>(dataset_task_train_indices(config, raw.stream_tasks[t], t, seed).size()));
    return sizes;
}

}  // namespace lorica
