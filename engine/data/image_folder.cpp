#include "engine/data/image_folder.h"

#include <cstdint>
#include <vector>

#include <torch/torch.h>

#include "engine/data/image_folder_index.h"
#include "engine/data/image_header_check.h"
#include "engine/data/image_store.h"

namespace lorica {
namespace {

torch::Tensor entry_labels(const std::vector<ImageEntry>& entries) {
    std::vector<int64_t> y;
    y.reserve(entries.size());
    for (const auto& e : entries) y.push_back(e.label);
    return torch::tensor(y, torch::kInt64);
}

}  // namespace

RawDataset load_image_folder(const std::string& root, const std::string& file_list, int channels) {
    if (channels != 1 && channels != 3)
        throw ConfigError("backbone.in_channels",
                          "image folders load 1 or 3 channels, not " + std::to_string(channels));
    ImageFolderIndex index = scan_image_folder(root, file_list);
    check_image_headers(index.train);
    check_image_headers(index.test);
    RawDataset d;
    d.name = "image-folder";
    d.num_classes = static_cast<int>(index.class_names.size());
    d.class_names = index.class_names;
    d.channels = channels;
    d.train_labels = entry_labels(index.train);
    d.test_labels = entry_labels(index.test);
    d.train_store = std::make_shared<const FileImageStore>(std::move(index.train), channels, root);
    d.test_store = std::make_shared<const FileImageStore>(std::move(index.test), channels, root);
    return d;
}

}  // namespace lorica
