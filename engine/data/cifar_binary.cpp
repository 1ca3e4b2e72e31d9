#include "engine/data/cifar_binary.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <torch/torch.h>

#include "engine/data/cifar_records.h"
#include "engine/data/data_error.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

std::string find_root(const std::string& root, const char* subdir, const char* probe) {
    if (!fs::exists(root)) throw DataError("data.root " + root + ": no such folder");
    if (fs::exists(fs::path(root) / probe)) return root;
    if (fs::exists(fs::path(root) / subdir / probe)) return (fs::path(root) / subdir).string();
    throw DataError((fs::path(root) / probe).string() + " not found (expected the CIFAR binary layout in " + root +
                    " or " + (fs::path(root) / subdir).string() + ")");
}

std::vector<uint8_t> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw DataError(path.string() + ": cannot open (missing file?)");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return bytes;
}

// Appends the records of one batch file (cifar_records.h).
void read_batch(const fs::path& path, const CifarLayout& layout, std::vector<uint8_t>& pixels,
                std::vector<int64_t>& labels) {
    parse_cifar_batch(read_file(path), path.string(), layout, pixels, labels);
}

void fill(torch::Tensor& images, torch::Tensor& labels, std::vector<uint8_t>& pixels, std::vector<int64_t>& y) {
    const int64_t n = static_cast<int64_t>(y.size());
    images = torch::empty({n, 3, 32, 32}, torch::kUInt8);
    std::memcpy(images.data_ptr<uint8_t>(), pixels.data(), pixels.size());
    labels = torch::tensor(y, torch::kInt64);
}

std::vector<std::string> names_file(const fs::path& path, int count) {
    std::ifstream in(path, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return parse_cifar_class_names(text, count);
}

}  // namespace

RawDataset load_cifar10(const std::string& root_in) {
    const fs::path root = find_root(root_in, "cifar-10-batches-bin", "test_batch.bin");
    RawDataset d;
    const DatasetInfo& info = dataset_info(DatasetId::cifar10);  // dataset_catalog.h
    d.name = info.name();
    d.num_classes = info.classes.count;
    std::vector<uint8_t> px;
    std::vector<int64_t> y;
    for (int b = 1; b <= 5; ++b) read_batch(root / ("data_batch_" + std::to_string(b) + ".bin"), {1, 0, 10}, px, y);
    fill(d.train_images, d.train_labels, px, y);
    px.clear();
    y.clear();
    read_batch(root / "test_batch.bin", {1, 0, 10}, px, y);
    fill(d.test_images, d.test_labels, px, y);
    d.class_names = names_file(root / info.classes.names_file, d.num_classes);
    if (d.class_names.front() == "class_0") d.class_names = info.classes.names;
    return d;
}

RawDataset load_cifar100(const std::string& root_in, const std::string& label) {
    const std::optional<Cifar100Labels> labels = value_of(kCifar100LabelNames, label);
    if (!labels)
        throw ConfigError("data.cifar100_labels",
                          "'" + label + "' is not allowed (allowed: " + allowed_names(kCifar100LabelNames) + ")");
    const fs::path root = find_root(root_in, "cifar-100-binary", "test.bin");
    const bool fine = *labels == Cifar100Labels::fine;
    const DatasetClasses& classes = dataset_info(DatasetId::cifar100).classes_of(*labels);  // dataset_catalog.h
    RawDataset d;
    d.name = dataset_info(DatasetId::cifar100).name();
    d.num_classes = classes.count;
    const CifarLayout layout{2, fine ? 1 : 0, d.num_classes};
    std::vector<uint8_t> px;
    std::vector<int64_t> y;
    read_batch(root / "train.bin", layout, px, y);
    fill(d.train_images, d.train_labels, px, y);
    px.clear();
    y.clear();
    read_batch(root / "test.bin", layout, px, y);
    fill(d.test_images, d.test_labels, px, y);
    d.class_names = names_file(root / classes.names_file, d.num_classes);
    return d;
}

}  // namespace lorica
