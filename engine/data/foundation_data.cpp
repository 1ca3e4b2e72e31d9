#include "engine/data/foundation_data.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>

#include <torch/torch.h>

#include "engine/data/data_error.h"
#include "engine/data/image_folder_index.h"
#include "engine/data/image_header_check.h"
#include "engine/data/image_store.h"
#include "engine/eval/synset_tables.h"

namespace lorica {
namespace {

namespace fs = std::filesystem;

// Label of each class folder: the ImageNet-1k index of a synset layout, else the sorted position.
std::vector<int> folder_labels(const std::vector<std::string>& folders, const std::string& root,
                               std::vector<std::string>& class_names) {
    const bool synsets = std::any_of(folders.begin(), folders.end(), looks_like_wnid);
    std::vector<int> labels;
    if (!synsets) {
        class_names = folders;
        for (size_t i = 0; i < folders.size(); ++i) labels.push_back(static_cast<int>(i));
        return labels;
    }
    const auto wnids = imagenet1k_wnids();
    class_names.assign(wnids.begin(), wnids.end());
    for (const auto& folder : folders) {
        const auto at = std::lower_bound(wnids.begin(), wnids.end(), folder);
        if (at == wnids.end() || *at != folder)
            throw ConfigError("foundation.data.root",
                              root + ": class folder '" + folder +
                                  "' is not an ImageNet-1k synset (a synset-layout folder maps each folder to "
                                  "its index in the 1000 sorted ImageNet-1k synset ids)");
        labels.push_back(static_cast<int>(at - wnids.begin()));
    }
    return labels;
}

torch::Tensor labels_of(const std::vector<ImageEntry>& entries) {
    std::vector<int64_t> y;
    y.reserve(entries.size());
    for (const auto& e : entries) y.push_back(e.label);
    return torch::tensor(y, torch::kInt64);
}

}  // namespace

bool looks_like_wnid(const std::string& name) {
    return name.size() == 9 && name[0] == 'n' &&
           std::all_of(name.begin() + 1, name.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

RawDataset load_foundation_data(const FoundationDataConfig& data, int channels) {
    if (data.root.empty()) throw ConfigError("foundation.data.root", "is required with foundation.source = weights");
    std::error_code ec;
    if (!fs::is_directory(data.root, ec)) throw ConfigError("foundation.data.root", data.root + ": no such folder");
    std::vector<ImageEntry> entries;
    std::vector<std::string> class_names;
    std::string field = "foundation.data.root";
    try {
        if (!data.file_list.empty()) {
            field = "foundation.data.file_list";
            const fs::path list = fs::path(data.file_list).is_absolute() ? fs::path(data.file_list)
                                                                         : fs::path(data.root) / data.file_list;
            std::map<int, std::string> names;
            entries = read_image_list(data.root, list.string(), names);
            class_names.resize(static_cast<size_t>(names.rbegin()->first + 1));
            for (const auto& [label, name] : names) class_names[static_cast<size_t>(label)] = name;
        } else {
            const std::vector<std::string> folders = sorted_class_folders(data.root);
            const std::vector<int> labels = folder_labels(folders, data.root, class_names);
            for (size_t f = 0; f < folders.size(); ++f)
                for (auto& file : sorted_image_files((fs::path(data.root) / folders[f]).string()))
                    entries.push_back({std::move(file), labels[f]});
        }
        check_image_headers(entries);
    } catch (const DataError& e) {
        throw ConfigError(field, e.what());
    }
    RawDataset d;
    d.name = "foundation data " + fs::path(data.root).filename().string();
    d.num_classes = static_cast<int>(class_names.size());
    d.class_names = std::move(class_names);
    d.channels = channels;
    d.train_labels = torch::empty({0}, torch::kInt64);
    d.test_labels = labels_of(entries);
    d.train_store = std::make_shared<const FileImageStore>(std::vector<ImageEntry>{}, channels);
    d.test_store = std::make_shared<const FileImageStore>(std::move(entries), channels, data.root);
    return d;
}

}  // namespace lorica
