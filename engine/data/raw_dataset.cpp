#include "engine/data/raw_dataset.h"

#include <memory>

#include <torch/torch.h>

#include "engine/config/config_check.h"
#include "engine/config/data_residence.h"
#include "engine/data/cifar_binary.h"
#include "engine/data/data_error.h"
#include "engine/data/foundation_data.h"
#include "engine/data/fashion_mnist.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_store.h"
#include "engine/stream/stream_spec.h"

namespace lorica {

RawDataset load_configured_dataset(const ExperimentConfig& config) {
    const DataConfig& data = config.data;
    RawDataset raw;
    const std::string dataset = name_of(kDatasetNames, data.dataset);
    if (data.dataset == DatasetId::fashion_mnist) {
        raw = load_fashion_mnist(fashion_mnist_root(data.root));
    } else {
        if (data.root.empty()) throw ConfigError("data.root", "is required for data.dataset = " + dataset);
        if (data.dataset == DatasetId::image_folder)
            return load_image_folder(data.root, data.file_list, config.backbone.in_channels);
        raw = data.dataset == DatasetId::cifar10
                  ? load_cifar10(data.root)
                  : load_cifar100(data.root, name_of(kCifar100LabelNames, data.cifar100_labels));
        raw.channels = 3;
    }
    const int64_t c = raw.train_images.size(1), h = raw.train_images.size(2);
    if (c != config.backbone.in_channels)
        throw ConfigError("backbone.in_channels", dataset + " images have " + std::to_string(c) +
                                                      " channels, the backbone expects " +
                                                      std::to_string(config.backbone.in_channels));
    if (data_is_streamed(data, config.backbone)) {
        // CIFAR at a larger backbone (CIFAR-100 at 224 for ViT-B/16): the 32 × 32 records stay as they
        // are (3 KiB an image) and are resized per batch by the streaming pipeline.
        raw.train_store = std::make_shared<const TensorImageStore>(raw.train_images, static_cast<int>(c),
                                                                   raw.name + " training split");
        raw.test_store =
            std::make_shared<const TensorImageStore>(raw.test_images, static_cast<int>(c), raw.name + " test split");
        raw.train_images = torch::Tensor();
        raw.test_images = torch::Tensor();
        return raw;
    }
    if (h != config.backbone.image_size)
        throw ConfigError("backbone.image_size", dataset + " images are " + std::to_string(h) + "×" +
                                                     std::to_string(h) + ", the backbone expects " +
                                                     std::to_string(config.backbone.image_size));
    return raw;
}

RawDataset load_stream_task_dataset(const ExperimentConfig& config, size_t index) {
    const DatasetTaskConfig& entry = config.stream.datasets.at(index);
    const std::string field = "stream.datasets[" + std::to_string(index) + "]";
    if (entry.root.empty() && dataset_info(entry.dataset).needs_root)
        throw ConfigError(field + ".root", "is required: the folder of " + dataset_info(entry.dataset).title);
    ExperimentConfig one = config;
    one.data.dataset = entry.dataset;
    one.data.root = entry.root;
    one.data.file_list = entry.file_list;
    try {
        RawDataset raw = load_configured_dataset(one);
        raw.name = dataset_task_name(entry);
        return raw;
    } catch (const ConfigError& e) {
        if (e.field().rfind("data.", 0) != 0) throw;  // backbone.image_size, backbone.in_channels: as they are
        throw ConfigError(field + (e.field() == "data.file_list" ? ".file_list" : ".root"),
                          entry.root + ": " + without_field_prefix(e));
    } catch (const DataError& e) {
        throw ConfigError(field + (entry.file_list.empty() ? ".root" : ".file_list"), e.what());
    }
}

nlohmann::json raw_dataset_key(const ExperimentConfig& config) {
    const nlohmann::json j = to_json(config);
    nlohmann::json key = {j["data"], j["backbone"]};
    if (config.stream.type == StreamType::datasets)
        key.push_back({{"datasets", j["stream"]["datasets"]}, {"trains_foundation", trains_foundation(config)}});
    if (config.foundation.source == FoundationSource::weights) key.push_back({{"foundation", j["foundation"]["data"]}});
    return key;
}

RawDataset load_raw_dataset(const ExperimentConfig& config) {
    RawDataset raw;
    if (config.stream.type != StreamType::datasets || trains_foundation(config)) raw = load_configured_dataset(config);
    if (config.stream.type == StreamType::datasets) {
        if (raw.name.empty()) raw.name = "datasets";
        for (size_t i = 0; i < config.stream.datasets.size(); ++i)
            raw.stream_tasks.push_back(load_stream_task_dataset(config, i));
    }
    if (config.foundation.source == FoundationSource::weights)
        raw.foundation = std::make_shared<const RawDataset>(
            load_foundation_data(config.foundation.data, config.backbone.in_channels));
    return raw;
}

RawDataset load_raw_dataset(const DataConfig& data) {
    ExperimentConfig config;
    config.data = data;
    if (data.dataset != DatasetId::fashion_mnist) config.backbone = backbone_preset("vit_base_patch16_224");
    if (data.dataset == DatasetId::cifar10 || data.dataset == DatasetId::cifar100) config.backbone.image_size = 32;
    return load_raw_dataset(config);
}

}  // namespace lorica
