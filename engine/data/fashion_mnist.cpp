#include "engine/data/fashion_mnist.h"

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <torch/torch.h>

#include "engine/data/idx_file.h"

namespace lorica {
namespace {

torch::Tensor idx_to_tensor(IdxArray&& array) {
    auto t = torch::empty(array.dims, torch::kUInt8);
    std::memcpy(t.data_ptr<uint8_t>(), array.data.data(), array.data.size());
    return t;
}

// `stem`.gz when present, else `stem` (plain).
std::string fashion_mnist_file(const std::string& root, const std::string& stem) {
    for (const char* suffix : {".gz", ""}) {
        auto p = std::filesystem::path(root) / (stem + suffix);
        if (std::filesystem::exists(p)) return p.string();
    }
    throw DataError("Fashion-MNIST file " + (std::filesystem::path(root) / (stem + ".gz")).string() +
                    " not found (install the Debian package dataset-fashion-mnist, or set data.root)");
}

}  // namespace

std::string fashion_mnist_root(const std::string& configured) {
    if (!configured.empty()) return configured;
    const char* env = std::getenv("LORICA_FASHION_MNIST_ROOT");
    return env && *env ? std::string(env) : std::string(kFashionMnistDefaultRoot);
}

RawDataset load_fashion_mnist(const std::string& root) {
    RawDataset d;
    const DatasetInfo& info = dataset_info(DatasetId::fashion_mnist);  // dataset_catalog.h
    d.name = info.name();
    d.num_classes = info.classes.count;
    d.class_names = info.classes.names;
    struct Split {
        std::string images, labels;
        torch::Tensor *x, *y;
    };
    for (const Split& s :
         {Split{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", &d.train_images, &d.train_labels},
          Split{"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", &d.test_images, &d.test_labels}}) {
        const std::string image_path = fashion_mnist_file(root, s.images),
                          label_path = fashion_mnist_file(root, s.labels);
        IdxArray images = read_idx_file(image_path, 3);
        IdxArray labels = read_idx_file(label_path, 1);
        if (images.dims[0] != labels.dims[0])
            throw DataError(image_path + " holds " + std::to_string(images.dims[0]) + " images but " + label_path +
                            " holds " + std::to_string(labels.dims[0]) + " labels");
        for (uint8_t l : labels.data)
            if (l >= 10) throw DataError(label_path + ": label " + std::to_string(l) + " is outside 0..9");
        *s.x = idx_to_tensor(std::move(images)).unsqueeze(1);  // [N, 1, 28, 28]
        *s.y = idx_to_tensor(std::move(labels)).to(torch::kInt64);
    }
    d.channels = 1;
    return d;
}

}  // namespace lorica
