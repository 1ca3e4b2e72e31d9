#include <cstdlib>
#include <filesystem>

#include <torch/torch.h>

#include "engine/data/cifar_binary.h"
#include "engine/data/idx_file.h"
#include "engine/data/image_folder.h"
#include "engine/data/raw_dataset.h"

namespace lorica {
namespace {

torch::Tensor to_tensor(IdxArray&& array) {
    auto t = torch::empty(array.dims, torch::kUInt8);
    std::memcpy(t.data_ptr<uint8_t>(), array.data.data(), array.data.size());
    return t;
}

std::string pick(const std::string& root, const std::string& stem) {
    for (const char* suffix : {".gz", ""}) {
        auto p = std::filesystem::path(root) / (stem + suffix);
        if (std::filesystem::exists(p)) return p.string();
    }
    throw DataError("Fashion-MNIST file " + (std::filesystem::path(root) / (stem + ".gz")).string() +
                    " not found (install the Debian package dataset-fashion-mnist, or set data.root)");
}

// data.root left empty: $LORICA_FASHION_MNIST_ROOT when set (a machine where the Debian package is
// unpacked into a prefix rather than installed, e.g. bench/device/check.sh), else the package's path.
std::string default_fashion_mnist_root() {
    const char* env = std::getenv("LORICA_FASHION_MNIST_ROOT");
    return env && *env ? std::string(env) : std::string(kFashionMnistDefaultRoot);
}

}  // namespace

RawDataset load_fashion_mnist(const std::string& root) {
    RawDataset d;
    d.name = "fashion-mnist";
    d.num_classes = 10;
    d.class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                     "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    struct Split {
        std::string images, labels;
        torch::Tensor *x, *y;
    };
    for (const Split& s : {Split{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", &d.train_images, &d.train_labels},
                           Split{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &d.test_images, &d.test_labels}}) {
        const std::string image_path = pick(root, s.images), label_path = pick(root, s.labels);
        IdxArray images = read_idx_file(image_path, 3);
        IdxArray labels = read_idx_file(label_path, 1);
        if (images.dims[0] != labels.dims[0])
            throw DataError(image_path + " holds " + std::to_string(images.dims[0]) + " images but " + label_path +
                            " holds " + std::to_string(labels.dims[0]) + " labels");
        for (uint8_t l : labels.data)
            if (l >= 10) throw DataError(label_path + ": label " + std::to_string(l) + " is outside 0..9");
        *s.x = to_tensor(std::move(images)).unsqueeze(1);  // [N, 1, 28, 28]
        *s.y = to_tensor(std::move(labels)).to(torch::kInt64);
    }
    return d;
}

RawDataset load_raw_dataset(const ExperimentConfig& config) {
    const DataConfig& data = config.data;
    RawDataset raw;
    if (data.dataset == "fashion-mnist") {
        raw = load_fashion_mnist(data.root.empty() ? default_fashion_mnist_root() : data.root);
    } else if (data.dataset == "cifar10" || data.dataset == "cifar100" || data.dataset == "image-folder") {
        if (data.root.empty()) throw ConfigError("data.root", "is required for data.dataset = " + data.dataset);
        if (data.dataset == "cifar10") raw = load_cifar10(data.root);
        else if (data.dataset == "cifar100") raw = load_cifar100(data.root, data.cifar100_labels);
        else
            raw = load_image_folder(data.root, data.file_list,
                                    ImageFolderLoadOptions{config.backbone.image_size, data.resize_size, config.backbone.in_channels, 0});
    } else {
        throw ConfigError("data.dataset", "'" + data.dataset + "' is not allowed (allowed: fashion-mnist, cifar10, cifar100, image-folder)");
    }
    const int64_t c = raw.train_images.size(1), h = raw.train_images.size(2);
    if (c != config.backbone.in_channels)
        throw ConfigError("backbone.in_channels", data.dataset + " images have " + std::to_string(c) + " channels, the backbone expects " +
                                                      std::to_string(config.backbone.in_channels));
    if (h != config.backbone.image_size)
        throw ConfigError("backbone.image_size", data.dataset + " images are " + std::to_string(h) + "×" + std::to_string(h) +
                                                     ", the backbone expects " + std::to_string(config.backbone.image_size));
    return raw;
}

RawDataset load_raw_dataset(const DataConfig& data) {
    ExperimentConfig config;
    config.data = data;
    if (data.dataset != "fashion-mnist") config.backbone = backbone_preset("vit_base_patch16_224");
    if (data.dataset == "cifar10" || data.dataset == "cifar100") config.backbone.image_size = 32;
    return load_raw_dataset(config);
}

}  // namespace lorica
