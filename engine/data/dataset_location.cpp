#include "engine/data/dataset_location.h"

#include <filesystem>
#include <vector>

#include "engine/data/fashion_mnist.h"

namespace lorica {
namespace {

namespace fs = std::filesystem;

bool exists_file(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
}

// The first of `names` missing in `dir` ("" when all are there); `alternative_suffix` also accepted.
std::string first_missing(const fs::path& dir, const std::vector<std::string>& names,
                          const std::string& alternative_suffix = "") {
    for (const auto& n : names)
        if (!exists_file(dir / n) && (alternative_suffix.empty() || !exists_file(dir / (n + alternative_suffix))))
            return (dir / n).string();
    return {};
}

}  // namespace

DatasetLocation locate_dataset(const DataConfig& data) {
    DatasetLocation out;
    out.is_default = data.root.empty();
    std::error_code ec;
    const DatasetInfo& info = dataset_info(data.dataset);  // the layout's files (dataset_catalog.h)
    const std::string dataset(info.name());
    if (data.dataset == DatasetId::fashion_mnist) {
        out.path = fashion_mnist_root(data.root);
        const std::vector<std::string> files = info.files();
        if (!fs::is_directory(out.path, ec)) {
            out.detail =
                out.path + ": no such folder" +
                (out.is_default ? " (install the Debian package dataset-fashion-mnist, or set data.root)" : "");
            return out;
        }
        // The IDX files, gzipped (.gz, as the Debian package ships them) or plain.
        std::string missing;
        const std::string& gz = info.compressed_suffix;
        for (const auto& f : files)
            if (!exists_file(fs::path(out.path) / (f + gz)) && !exists_file(fs::path(out.path) / f)) {
                missing = (fs::path(out.path) / (f + gz)).string();
                break;
            }
        out.present = missing.empty();
        out.detail = out.present ? "the four Fashion-MNIST IDX files (60,000 training, 10,000 test images)"
                                 : missing + " not found";
        return out;
    }
    // cifar10, cifar100, image-folder: data.root is required.
    if (data.root.empty()) {
        out.detail = "data.root is required for data.dataset = " + dataset;
        return out;
    }
    out.path = data.root;
    if (!fs::is_directory(out.path, ec)) {
        out.detail = out.path + ": no such folder";
        return out;
    }
    if (data.dataset == DatasetId::image_folder) {
        if (!data.file_list.empty()) {
            for (const char* split : {"train", "test"}) {
                std::string list = data.file_list;
                if (auto at = list.find("{split}"); at != std::string::npos) list.replace(at, 7, split);
                const fs::path p = fs::path(list).is_absolute() ? fs::path(list) : fs::path(out.path) / list;
                if (!exists_file(p)) {
                    out.detail = p.string() + " not found (data.file_list)";
                    return out;
                }
            }
            out.present = true;
            out.detail = "the folder and both file lists (train, test)";
            return out;
        }
        int classes = 0;
        const fs::path scan =
            fs::is_directory(fs::path(out.path) / "train", ec) ? fs::path(out.path) / "train" : fs::path(out.path);
        for (const auto& entry : fs::directory_iterator(scan, ec))
            if (entry.is_directory()) ++classes;
        out.present = classes > 0;
        out.detail =
            out.present
                ? std::to_string(classes) + " class folders" + (scan != fs::path(out.path) ? " under train/" : "")
                : out.path + ": no class folders (expected <root>/<class>/<image> or <root>/train/<class>/...)";
        return out;
    }
    const bool ten = data.dataset == DatasetId::cifar10;
    const std::vector<std::string> files = info.files();
    fs::path dir = out.path;
    if (!first_missing(dir, files).empty() && fs::is_directory(dir / info.subfolder, ec)) dir /= info.subfolder;
    const std::string missing = first_missing(dir, files);
    out.present = missing.empty();
    out.detail = out.present
                     ? std::string(ten ? "the six CIFAR-10 batch files" : "CIFAR-100's train.bin and test.bin") +
                           (dir != fs::path(out.path) ? " in " + dir.filename().string() + "/" : "")
                     : missing + " not found";
    return out;
}

}  // namespace lorica
