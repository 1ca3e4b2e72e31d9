#pragma once
// A labelled image data set as loaded from disk, before any stream is cut from it.
//
// Two forms: in memory (Fashion-MNIST; CIFAR when the backbone is 32 px), every image an 8-bit
// tensor at the backbone's size; or streamed (image folders, file lists; CIFAR when the backbone is
// larger, e.g. CIFAR-100 at 224 for ViT-B/16), each split an ImageStore (image_store.h: the files,
// or CIFAR's records at their native 32 × 32) read per batch by the streaming pipeline. A streamed
// data set is never decoded whole: loading it reads the folder layout / file lists and every
// image's header (image_header.h), not the pixels.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include "engine/config/experiment_config.h"

namespace lorica {

class ImageStore;  // image_store.h

struct RawDataset {
    std::string name;
    torch::Tensor train_images;  // in memory: uint8 [N, C, H, W]; undefined when streamed
    torch::Tensor train_labels;  // int64 [N], values in [0, num_classes)
    torch::Tensor test_images;   // in memory: uint8 [M, C, H, W]; undefined when streamed
    torch::Tensor test_labels;   // int64 [M]
    std::shared_ptr<const ImageStore> train_store, test_store;  // streamed: the splits' images
    int num_classes = 0;
    int channels = 0;                      // of the images the model sees (1 or 3)
    std::vector<std::string> class_names;  // num_classes entries
    // stream.type = datasets: the data set of each stream.datasets entry, by task (labels 0 .. n_t − 1
    // of its own). The splits above are then data.*'s only when a foundation step trains on them
    // (foundation.source = train and enabled), else empty.
    std::vector<RawDataset> stream_tasks;
    // foundation.source = weights: foundation.data (foundation_data.h), its images in the test split.
    std::shared_ptr<const RawDataset> foundation;

    bool streamed() const { return train_store != nullptr; }
};

// Loads `data.dataset` from `data.root` (or its default location). Throws DataError naming the file.
//   fashion-mnist  IDX files (fashion_mnist.h; default root /usr/share/datasets/fashion-mnist)
//   cifar10 / cifar100   the binary layout (cifar_binary.h); data.root required
//   image-folder   PNG/JPEG folders or a file list (image_folder.h), streamed; data.root required;
//                  every file's header is read (a missing, unreadable or non-image file fails here)
// In memory, the images must match backbone.image_size; CIFAR is streamed (resized per batch) when
// backbone.image_size is larger than 32. The channels must match backbone.in_channels (image folders
// are converted to it). ConfigError naming the field otherwise.
// data.* alone (what load_raw_dataset loads for a class or domain stream).
RawDataset load_configured_dataset(const ExperimentConfig& config);
// A run's data: for stream.type = datasets also every entry's data set (load_stream_task_dataset), for
// foundation.source = weights also foundation.data (load_foundation_data).
RawDataset load_raw_dataset(const ExperimentConfig& config);
// The data set of stream.datasets[index], loaded as data.* with its dataset, root and file_list.
// Errors name the entry: ConfigError("stream.datasets[i].root") for a missing root, folder or file.
RawDataset load_stream_task_dataset(const ExperimentConfig& config, size_t index);

// The config sections a run's loaded data depends on: data and backbone (image folders decode to the
// backbone's image_size and in_channels), and where used stream.datasets and foundation.source / data.
// Equal keys = the same loaded data.
nlohmann::json raw_dataset_key(const ExperimentConfig& config);
// The same with a default backbone (image folders decode to 224 × 224 RGB).
RawDataset load_raw_dataset(const DataConfig& data);

}  // namespace lorica
