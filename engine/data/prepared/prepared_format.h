#pragma once
// The on-disk layout of a prepared data set (`lorica-cli prepare`, data.prepared): every image of a
// streamed data set decoded once, resized, and stored as 8-bit pixels that training maps into memory
// instead of decoding files every epoch.
//
//   DIR/prepared.json          the manifest (below), rewritten atomically (write + rename)
//   DIR/<set>/shard-NNNNN.u8   pixels of images [k·P, (k+1)·P) of the set (P = images_per_shard,
//                              kImagesPerShard unless a test asks for fewer),
//                              each uint8 [height, width, channels] row-major, back to back
//   DIR/<set>/shard-NNNNN.idx  that shard's index: the header, then one PreparedRecord per image
//
// A set is one split of one data set (an ImageStore: a folder's train or test images, a file list,
// CIFAR records), named "set-<digest>" after its source fingerprint. Images keep the store's order:
// image i of the set is image i of the store, so the labels still come from the data set itself.
//
// Each image is stored at the transform's resize size: its shorter side resized to resize_size with
// the longer side keeping the aspect ratio (truncated, as torchvision), bicubic with antialiasing when
// shrinking, in float on [0, 1] exactly as the decode path's test transform (image_transforms.h),
// then rounded to 8 bits. The test transform of a prepared image is then a centre crop; the train
// transform maps its random crop box, drawn on the source size (source_height × source_width, kept in
// the record) with the same random numbers as the decode path, onto the stored image.
//
// Manifest (JSON):
//   {"format": "lorica-prepared", "version": 1, "complete": bool,
//    "transform": {"resize_size": 256, "resample": "bicubic-antialias"}, "images_per_shard": 1024,
//    "sets": [{"folder": "set-…", "description": "<what the store holds>", "channels": 3,
//              "images": N, "source": {"kind": "files" | "records", "images": N, "digest": "<16 hex>"},
//              "shards": [{"file": "shard-00000", "images": 1024, "bytes": …}, …]}]}
//   `complete` is written last: a folder whose manifest says false is an interrupted `prepare`, which
//   the next `prepare` continues (a shard counts as written once its .idx exists: the .u8 is renamed
//   into place first, the .idx last).
//
// Index file (.idx): 16-byte header {char magic[8] = "LORPIDX1"; uint32 images; uint32 channels},
// then `images` PreparedRecords (little-endian, 32 bytes each). Offsets are into the shard's .u8;
// the records of a shard cover its .u8 exactly (the last image ends at the file's size).
//
// Integrity: each record holds the CRC-32 (zlib) of its image's bytes, checked the first time a
// process reads the image; a .u8 shorter or longer than its index says is refused when the set is
// opened. Either error is a DataError naming the shard file.

#include <cstdint>

namespace lorica {

inline constexpr const char* kPreparedManifestFile = "prepared.json";
inline constexpr const char* kPreparedFormatName = "lorica-prepared";
inline constexpr int kPreparedFormatVersion = 1;
inline constexpr const char* kPreparedResample = "bicubic-antialias";
inline constexpr int64_t kImagesPerShard = 1024;  // ~200 MB of 256-px RGB images a shard
inline constexpr char kPreparedIndexMagic[8] = {'L', 'O', 'R', 'P', 'I', 'D', 'X', '1'};

struct PreparedRecord {
    uint64_t offset = 0;                           // bytes into the shard's .u8
    uint32_t height = 0, width = 0;                // as stored (shorter side = resize_size)
    uint32_t source_height = 0, source_width = 0;  // as decoded from the file or record
    uint32_t crc32 = 0;                            // zlib CRC-32 of the height·width·channels bytes
    uint32_t reserved = 0;
};
static_assert(sizeof(PreparedRecord) == 32, "PreparedRecord is 32 bytes on disk");

}  // namespace lorica
