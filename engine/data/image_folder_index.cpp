#include "engine/data/image_folder_index.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/config/experiment_config.h"
#include "engine/data/data_error.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

bool is_image_file(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg";
}

std::vector<std::string> class_folders(const fs::path& dir) {
    if (!fs::is_directory(dir)) throw DataError("image folder " + dir.string() + ": no such folder");
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory()) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    if (names.empty())
        throw DataError("image folder " + dir.string() + ": no class folders (expected " + dir.string() +
                        "/<class>/<image>)");
    return names;
}

std::vector<std::string> images_of(const fs::path& dir) {
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_regular_file() && is_image_file(e.path())) files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty())
        throw DataError("image folder " + dir.string() + ": empty class folder (no .png/.jpg/.jpeg files)");
    return files;
}

std::vector<ImageEntry> read_list(const fs::path& root, const fs::path& list, std::map<int, std::string>& names) {
    std::ifstream in(list);
    if (!in) throw DataError("data.file_list " + list.string() + ": cannot open");
    std::vector<ImageEntry> out;
    int line_no = 0;
    for (std::string line; std::getline(in, line);) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos || line[line.find_first_not_of(" \t")] == '#') continue;
        const size_t space = line.find_last_of(" \t");
        int label = -1;
        try {
            if (space == std::string::npos) throw std::invalid_argument("no label");
            size_t used = 0;
            label = std::stoi(line.substr(space + 1), &used);
            if (used != line.size() - space - 1 || label < 0) throw std::invalid_argument("bad label");
        } catch (const std::exception&) {
            throw DataError(list.string() + ":" + std::to_string(line_no) +
                            ": expected \"<path> <label index>\", got \"" + line + "\"");
        }
        std::string rel = line.substr(0, space);
        while (!rel.empty() && (rel.back() == ' ' || rel.back() == '\t')) rel.pop_back();
        const fs::path p = root / rel;
        if (!fs::exists(p))
            throw DataError(list.string() + ":" + std::to_string(line_no) + ": image " + p.string() + " not found");
        out.push_back({p.string(), label});
        names.try_emplace(label, fs::path(rel).parent_path().filename().string());
    }
    if (out.empty()) throw DataError("data.file_list " + list.string() + ": no entries");
    return out;
}

}  // namespace

std::vector<std::string> sorted_class_folders(const std::string& dir) { return class_folders(dir); }

std::vector<std::string> sorted_image_files(const std::string& dir) { return images_of(dir); }

std::vector<ImageEntry> read_image_list(const std::string& root, const std::string& list,
                                        std::map<int, std::string>& names) {
    return read_list(root, list, names);
}

ImageFolderIndex scan_image_folder(const std::string& root_in, const std::string& file_list) {
    const fs::path root(root_in);
    if (!fs::is_directory(root)) throw DataError("data.root " + root_in + ": no such folder");
    ImageFolderIndex index;
    if (!file_list.empty()) {
        auto list_path = [&](const std::string& split) {
            std::string name = file_list;
            if (auto pos = name.find("{split}"); pos != std::string::npos)
                name.replace(pos, 7, split);
            else if (split == "test")
                throw ConfigError("data.file_list", "must contain \"{split}\" (e.g. \"list_{split}.txt\")");
            const fs::path p(name);
            return p.is_absolute() ? p : root / p;
        };
        std::map<int, std::string> names;
        index.train = read_list(root, list_path("train"), names);
        index.test = read_list(root, list_path("test"), names);
        const int classes = names.rbegin()->first + 1;
        for (int c = 0; c < classes; ++c) {
            if (!names.count(c))
                throw DataError("data.file_list " + file_list + ": label " + std::to_string(c) +
                                " has no image (labels must be 0..N-1)");
            index.class_names.push_back(names.at(c));
        }
        return index;
    }
    if (fs::is_directory(root / "train") && fs::is_directory(root / "test")) {
        index.class_names = class_folders(root / "train");
        const auto test_classes = class_folders(root / "test");
        for (const auto& c : index.class_names)
            if (!std::binary_search(test_classes.begin(), test_classes.end(), c))
                throw DataError("image folder " + (root / "test").string() + ": class folder \"" + c +
                                "\" of the train split is missing");
        if (test_classes.size() != index.class_names.size())
            throw DataError("image folder " + (root / "test").string() + ": has class folders that " +
                            (root / "train").string() + " lacks");
        for (size_t c = 0; c < index.class_names.size(); ++c) {
            for (auto& f : images_of(root / "train" / index.class_names[c]))
                index.train.push_back({f, static_cast<int>(c)});
            for (auto& f : images_of(root / "test" / index.class_names[c]))
                index.test.push_back({f, static_cast<int>(c)});
        }
        return index;
    }
    index.class_names = class_folders(root);
    for (size_t c = 0; c < index.class_names.size(); ++c) {
        const auto files = images_of(root / index.class_names[c]);
        for (size_t i = 0; i < files.size(); ++i)
            (i % 5 == 4 ? index.test : index.train).push_back({files[i], static_cast<int>(c)});
    }
    return index;
}

}  // namespace lorica
