#pragma once
// The images of one split of a streamed data set, read one at a time on demand: files on disk (image
// folders, file lists) or compact 8-bit records in memory at their native size (CIFAR, 32 × 32).
// Nothing here is ever held at backbone resolution; the streaming pipeline (streamed_samples.h)
// decodes, caches (streaming_image_dataset.h) and transforms what a batch needs.
//
// `load(i)` is thread-safe (the decoder threads call it concurrently) and returns 8-bit pixels
// [height, width, channels] converted to `channels()`. Errors are DataError (data_error.h) naming the
// file (a missing or undecodable image) or the record.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/data/image_decode.h"
#include "engine/data/image_folder_index.h"

namespace lorica {

class ImageStore {
public:
    virtual ~ImageStore() = default;
    virtual int64_t size() const = 0;
    virtual int channels() const = 0;                       // 1 or 3, of every loaded image
    virtual DecodedImage load(int64_t index) const = 0;     // thread-safe
    virtual std::string describe(int64_t index) const = 0;  // the file, or "record i of <name>"
    // What identifies image i in a prepared set's source fingerprint (prepared/prepared_images.h):
    // "files" stores give the file's path (relative to the store's root when it has one) and size,
    // "records" stores the record's pixels. Two stores whose entries are equal hold the same images.
    virtual const char* fingerprint_kind() const = 0;  // "files" | "records"
    virtual std::string fingerprint_entry(int64_t index) const = 0;
};

// PNG/JPEG files (image_folder_index.h entries), decoded by image_decode.h and converted to `channels`.
// `root`: the data set's folder, when known (the fingerprint then names files relative to it, so a
// data set moved elsewhere keeps its prepared images).
class FileImageStore final : public ImageStore {
public:
    FileImageStore(std::vector<ImageEntry> entries, int channels, std::string root = {});
    int64_t size() const override { return static_cast<int64_t>(entries_.size()); }
    int channels() const override { return channels_; }
    DecodedImage load(int64_t index) const override;
    std::string describe(int64_t index) const override;
    const char* fingerprint_kind() const override { return "files"; }
    std::string fingerprint_entry(int64_t index) const override;  // "<relative path>\n<bytes>"
    const std::vector<ImageEntry>& entries() const { return entries_; }

private:
    std::vector<ImageEntry> entries_;
    int channels_;
    std::string root_;
};

// uint8 [N, C, H, W] records in memory (CIFAR's [N, 3, 32, 32]: 3 KiB an image), converted to `channels`.
class TensorImageStore final : public ImageStore {
public:
    TensorImageStore(torch::Tensor images, int channels, std::string name);
    int64_t size() const override { return images_.size(0); }
    int channels() const override { return channels_; }
    DecodedImage load(int64_t index) const override;
    std::string describe(int64_t index) const override;
    const char* fingerprint_kind() const override { return "records"; }
    std::string fingerprint_entry(int64_t index) const override;  // the record's C·H·W bytes

private:
    torch::Tensor images_;  // uint8 [N, C, H, W], contiguous
    int channels_;
    std::string name_;
};

}  // namespace lorica
