#include "engine/data/image_store.h"

#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/data/data_error.h"

namespace lorica {
namespace {

void check_index(int64_t index, int64_t size, const std::string& what) {
    if (index < 0 || index >= size)
        throw std::out_of_range(what + ": index " + std::to_string(index) + " of " + std::to_string(size));
}

}  // namespace

FileImageStore::FileImageStore(std::vector<ImageEntry> entries, int channels, std::string root)
    : entries_(std::move(entries)), channels_(channels), root_(std::move(root)) {
    if (channels_ != 1 && channels_ != 3)
        throw ConfigError("backbone.in_channels", "image files load 1 or 3 channels, not " + std::to_string(channels_));
}

DecodedImage FileImageStore::load(int64_t index) const {
    check_index(index, size(), "image store");
    try {
        return convert_channels(decode_image_file(entries_[static_cast<size_t>(index)].path), channels_);
    } catch (const ImageDecodeError& e) {
        throw DataError(e.what());  // starts with the path
    }
}

std::string FileImageStore::describe(int64_t index) const {
    check_index(index, size(), "image store");
    return entries_[static_cast<size_t>(index)].path;
}

std::string FileImageStore::fingerprint_entry(int64_t index) const {
    check_index(index, size(), "image store");
    const std::string& path = entries_[static_cast<size_t>(index)].path;
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(path, ec);
    if (ec) throw DataError(path + ": cannot read its size (" + ec.message() + ")");
    std::string name = path;
    if (!root_.empty()) {
        const std::filesystem::path relative = std::filesystem::path(path).lexically_relative(root_);
        if (!relative.empty() && *relative.begin() != "..") name = relative.generic_string();
    }
    return name + "\n" + std::to_string(bytes);
}

TensorImageStore::TensorImageStore(torch::Tensor images, int channels, std::string name)
    : images_(images.contiguous()), channels_(channels), name_(std::move(name)) {
    TORCH_CHECK(images_.dim() == 4 && images_.scalar_type() == torch::kUInt8,
                "TensorImageStore: uint8 [N, C, H, W] expected");
    TORCH_CHECK(images_.size(1) == 1 || images_.size(1) == 3, "TensorImageStore: 1 or 3 channels expected");
    if (channels_ != 1 && channels_ != 3)
        throw ConfigError("backbone.in_channels", "images load 1 or 3 channels, not " + std::to_string(channels_));
}

DecodedImage TensorImageStore::load(int64_t index) const {
    check_index(index, size(), name_);
    const int64_t c = images_.size(1), h = images_.size(2), w = images_.size(3);
    DecodedImage out;
    out.width = static_cast<int>(w);
    out.height = static_cast<int>(h);
    out.channels = static_cast<int>(c);
    out.pixels.resize(static_cast<size_t>(c * h * w));
    const uint8_t* src = images_.data_ptr<uint8_t>() + index * c * h * w;  // planes [C, H, W]
    for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x)
            for (int64_t k = 0; k < c; ++k)
                out.pixels[static_cast<size_t>((y * w + x) * c + k)] = src[(k * h + y) * w + x];
    if (out.channels == channels_) return out;
    return convert_channels(out, channels_);
}

std::string TensorImageStore::describe(int64_t index) const {
    return "record " + std::to_string(index) + " of " + name_;
}

std::string TensorImageStore::fingerprint_entry(int64_t index) const {
    check_index(index, size(), name_);
    const int64_t bytes = images_.size(1) * images_.size(2) * images_.size(3);
    const auto* src = reinterpret_cast<const char*>(images_.data_ptr<uint8_t>() + index * bytes);
    return std::string(src, static_cast<size_t>(bytes));
}

}  // namespace lorica
