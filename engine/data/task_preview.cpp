#include "engine/data/task_preview.h"

#include <algorithm>

#include <torch/torch.h>

#include "engine/data/raw_dataset.h"
#include "engine/data/stream_data.h"
#include "engine/runtime/host_read.h"

namespace lorica {

struct TaskPreviewer::Cache {
    nlohmann::json key;  // the data and backbone sections the raw data set was loaded for
    RawDataset raw;
    bool loaded = false;
};

TaskPreviewer::TaskPreviewer() : cache_(std::make_unique<Cache>()) {}
TaskPreviewer::~TaskPreviewer() = default;

std::vector<int64_t> preview_positions(int64_t size, int samples) {
    std::vector<int64_t> out;
    if (size <= 0 || samples <= 0) return out;
    const int64_t n = std::min<int64_t>(size, samples);
    for (int64_t i = 0; i < n; ++i) out.push_back(i * size / n);
    return out;
}

namespace {

// float [n, c, h, w] normalised → uint8 [n, h, w, 3]: x · std + mean, clamped to [0, 1], · 255.
std::vector<uint8_t> display_pixels(const torch::Tensor& normalised, const DataConfig& data) {
    const int64_t c = normalised.size(1);
    torch::Tensor x = normalised;
    if (!data.normalize_mean.empty()) {
        auto mean = torch::tensor(data.normalize_mean, torch::kFloat32).view({1, c, 1, 1});
        auto stdv = torch::tensor(data.normalize_std, torch::kFloat32).view({1, c, 1, 1});
        x = x * stdv + mean;
    }
    x = (x.clamp(0.0, 1.0) * 255.0).round().to(torch::kUInt8);
    if (c == 1)
        x = x.expand({x.size(0), 3, x.size(2), x.size(3)});
    else if (c != 3)
        x = x.slice(1, 0, 1).expand({x.size(0), 3, x.size(2), x.size(3)});
    x = x.permute({0, 2, 3, 1}).contiguous();
    return std::vector<uint8_t>(x.data_ptr<uint8_t>(), x.data_ptr<uint8_t>() + x.numel());
}

}  // namespace

StreamPreview TaskPreviewer::preview(const ExperimentConfig& config, int samples_per_task) {
    torch::NoGradGuard no_grad;
    const nlohmann::json key = raw_dataset_key(config);
    if (!cache_->loaded || cache_->key != key) {
        cache_->loaded = false;
        cache_->raw = load_raw_dataset(config);
        cache_->key = key;
        cache_->loaded = true;
    }
    const RawDataset& raw = cache_->raw;
    StreamPreview out;
    out.dataset = config.stream.type == StreamType::datasets
                      ? std::string(name_of(kStreamTypeNames, config.stream.type))
                      : std::string(name_of(kDatasetNames, config.data.dataset));
    out.seed = config.stream.class_order_seed.value_or(config.seeds.empty() ? 0 : config.seeds.front());
    const StreamData data = build_stream_data(config, raw, out.seed);
    for (const TaskData& task : data.tasks) {
        TaskPreview p;
        p.task = task.spec.index;
        p.domain = task.spec.domain;
        p.classes = task.spec.classes;
        p.class_names = task.class_names;
        p.train_size = task.train.size();
        p.sample_positions = preview_positions(p.train_size, samples_per_task);
        if (!p.sample_positions.empty()) {
            const torch::Tensor index = torch::tensor(p.sample_positions, torch::kInt64);
            const torch::Tensor images = task.train.samples->batch(index, BatchMode::test, 0).contiguous();
            const torch::Tensor labels = task.train.labels.index_select(0, index);
            for (int64_t i = 0; i < labels.size(0); ++i)
                p.sample_labels.push_back(static_cast<int>(read_int(labels[i])));
            p.channels = static_cast<int>(images.size(1));
            p.height = static_cast<int>(images.size(2));
            p.width = static_cast<int>(images.size(3));
            p.normalised.assign(images.data_ptr<float>(), images.data_ptr<float>() + images.numel());
            p.display_rgb = display_pixels(images, config.data);
        }
        out.tasks.push_back(std::move(p));
    }
    return out;
}

}  // namespace lorica
