#pragma once
// One prepared set (prepared_format.h) opened for reading: its shards memory-mapped (read-only,
// shared), so resident memory is what the page cache holds, never a copy per process.
//
//   auto images = PreparedImages::open(dir, *store, transform);  // validates before use
//   PreparedImage im = images->image(i);                          // thread-safe, zero-copy
//
// `open` finds the set made from `source` (same fingerprint: kind, image count and digest,
// source_fingerprint below) and checks, before any image is read: the manifest's format, version and
// completeness; the transform (resize_size; ConfigError("data.resize_size") naming both sizes when
// they differ); every shard's .idx (header, record count, offsets) against its .u8's size. Errors:
//   ConfigError("data.prepared")  no manifest / not complete ("run lorica-cli prepare ... to finish
//                                 it") / no set made from this data ("prepared from other data")
//   DataError naming the file     a missing, truncated or malformed shard or index
// `image(i)` checks the image's CRC-32 the first time this process reads it (a DataError naming the
// shard file and the image on a mismatch) and returns a view into the mapping, valid while the
// PreparedImages lives. An empty source (a split without images) opens as an empty set without
// looking for one in the folder.
//
// Cost of `open`: the source's fingerprint (one stat per file, or a pass over the records) and the
// index files (32 bytes an image); no pixel is read. Resident memory: the indexes, one byte an image
// for the CRC flags, and whatever pages of the shards the kernel keeps cached.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/prepared/prepared_format.h"

namespace lorica {

class ImageStore;  // image_store.h (this header stays torch-free: the GUI includes it)

// What a prepared set was made from: kind "files" (the digest covers every file's path, relative to
// the data set's root where it has one, and size) or "records" (the digest covers the pixels); two
// stores with the same fingerprint hold the same images in the same order. The digest is 64-bit
// FNV-1a over the kind, the image count and every ImageStore::fingerprint_entry (length-prefixed).
struct SourceFingerprint {
    std::string kind;
    int64_t images = 0;
    std::string digest;  // 16 hex digits
    bool operator==(const SourceFingerprint&) const = default;
};
SourceFingerprint source_fingerprint(const ImageStore& store);

struct PreparedTransform {
    int64_t resize_size = 256;  // shorter side of every stored image
    bool operator==(const PreparedTransform&) const = default;
};

// A stored image: uint8 [height, width, channels] row-major at `pixels`.
struct PreparedImage {
    const uint8_t* pixels = nullptr;
    int64_t height = 0, width = 0, channels = 0;
    int64_t source_height = 0, source_width = 0;
};

class PreparedImages {
public:
    static std::shared_ptr<const PreparedImages> open(const std::string& dir, const ImageStore& source,
                                                      const PreparedTransform& transform);
    ~PreparedImages();
    PreparedImages(const PreparedImages&) = delete;
    PreparedImages& operator=(const PreparedImages&) = delete;

    int64_t size() const { return static_cast<int64_t>(records_.size()); }
    int channels() const { return channels_; }
    const PreparedTransform& transform() const { return transform_; }
    PreparedImage image(int64_t index) const;   // thread-safe
    std::string describe(int64_t index) const;  // "<shard file>, image k"

private:
    PreparedImages();
    struct Shard;  // a mapped .u8
    std::vector<Shard> shards_;
    std::vector<PreparedRecord> records_;
    std::vector<int32_t> shard_of_;                            // by image
    mutable std::unique_ptr<std::atomic<uint8_t>[]> checked_;  // by image: CRC verified in this process
    int channels_ = 3;
    PreparedTransform transform_;
};

}  // namespace lorica
