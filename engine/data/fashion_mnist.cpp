#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <thread>

#include <torch/torch.h>

#include "engine/data/cifar_binary.h"
#include "engine/data/idx_file.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_header.h"
#include "engine/data/image_store.h"
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

// Reads every entry's header (image_header.h) on a few threads: the layout and the files are checked
// without decoding a pixel. Throws DataError naming the first bad file.
void check_headers(const std::vector<ImageEntry>& entries) {
    const int64_t n = static_cast<int64_t>(entries.size());
    std::atomic<int64_t> next{0};
    std::string failure;
    std::mutex failure_mutex;
    auto worker = [&] {
        for (int64_t i = next++; i < n; i = next++) {
            try {
                (void)read_image_header(entries[static_cast<size_t>(i)].path);
            } catch (const std::exception& e) {
                std::lock_guard<std::mutex> lock(failure_mutex);
                if (failure.empty()) failure = e.what();
                next = n;
            }
        }
    };
    const int threads = static_cast<int>(std::clamp<int64_t>(std::thread::hardware_concurrency(), 1,
                                                             std::min<int64_t>(8, std::max<int64_t>(1, n / 64))));
    std::vector<std::thread> pool;
    for (int k = 1; k < threads; ++k) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    if (!failure.empty()) throw DataError("image folder: " + failure);
}

torch::Tensor labels_of(const std::vector<ImageEntry>& entries) {
    std::vector<int64_t> y;
    y.reserve(entries.size());
    for (const auto& e : entries) y.push_back(e.label);
    return torch::tensor(y, torch::kInt64);
}

RawDataset streamed_image_folder(const DataConfig& data, int channels) {
    if (channels != 1 && channels != 3)
        throw ConfigError("backbone.in_channels",
                          "image folders load 1 or 3 channels, not " + std::to_string(channels));
    ImageFolderIndex index = scan_image_folder(data.root, data.file_list);
    check_headers(index.train);
    check_headers(index.test);
    RawDataset d;
    d.name = "image-folder";
    d.num_classes = static_cast<int>(index.class_names.size());
    d.class_names = index.class_names;
    d.channels = channels;
    d.train_labels = labels_of(index.train);
    d.test_labels = labels_of(index.test);
    d.train_store = std::make_shared<const FileImageStore>(std::move(index.train), channels);
    d.test_store = std::make_shared<const FileImageStore>(std::move(index.test), channels);
    return d;
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
    for (const Split& s :
         {Split{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", &d.train_images, &d.train_labels},
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
    d.channels = 1;
    return d;
}

RawDataset load_raw_dataset(const ExperimentConfig& config) {
    const DataConfig& data = config.data;
    RawDataset raw;
    if (data.dataset == "fashion-mnist") {
        raw = load_fashion_mnist(data.root.empty() ? default_fashion_mnist_root() : data.root);
    } else if (data.dataset == "cifar10" || data.dataset == "cifar100" || data.dataset == "image-folder") {
        if (data.root.empty()) throw ConfigError("data.root", "is required for data.dataset = " + data.dataset);
        if (data.dataset == "image-folder") return streamed_image_folder(data, config.backbone.in_channels);
        raw = data.dataset == "cifar10" ? load_cifar10(data.root) : load_cifar100(data.root, data.cifar100_labels);
        raw.channels = 3;
    } else {
        throw ConfigError(
            "data.dataset",
            "'" + data.dataset + "' is not allowed (allowed: fashion-mnist, cifar10, cifar100, image-folder)");
    }
    const int64_t c = raw.train_images.size(1), h = raw.train_images.size(2);
    if (c != config.backbone.in_channels)
        throw ConfigError("backbone.in_channels", data.dataset + " images have " + std::to_string(c) +
                                                      " channels, the backbone expects " +
                                                      std::to_string(config.backbone.in_channels));
    if (h < config.backbone.image_size && raw.name != "fashion-mnist") {
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
        throw ConfigError("backbone.image_size", data.dataset + " images are " + std::to_string(h) + "×" +
                                                     std::to_string(h) + ", the backbone expects " +
                                                     std::to_string(config.backbone.image_size));
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
