#pragma once
// A labelled image data set as loaded from disk, before any stream is cut from it.

#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/config/experiment_config.h"

namespace lorica {

struct RawDataset {
    std::string name;
    torch::Tensor train_images;  // uint8 [N, C, H, W]
    torch::Tensor train_labels;  // int64 [N], values in [0, num_classes)
    torch::Tensor test_images;   // uint8 [M, C, H, W]
    torch::Tensor test_labels;   // int64 [M]
    int num_classes = 0;
    std::vector<std::string> class_names;  // num_classes entries
};

// Loads `data.dataset` from `data.root` (or its default location). Throws DataError naming the file.
//   fashion-mnist  IDX files (default root /usr/share/datasets/fashion-mnist)
//   cifar10 / cifar100   the binary layout (cifar_binary.h); data.root required
//   image-folder   PNG/JPEG folders or a file list (image_folder.h), decoded to the backbone's
//                  image_size and in_channels; data.root required
// The images must match backbone.image_size and in_channels (ConfigError naming the field otherwise).
RawDataset load_raw_dataset(const ExperimentConfig& config);
// The same with a default backbone (image folders decode to 224 × 224 RGB).
RawDataset load_raw_dataset(const DataConfig& data);

// The default location of the embedded Fashion-MNIST (Debian package dataset-fashion-mnist).
inline constexpr const char* kFashionMnistDefaultRoot = "/usr/share/datasets/fashion-mnist";

RawDataset load_fashion_mnist(const std::string& root);

}  // namespace lorica
