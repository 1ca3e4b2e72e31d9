#pragma once
// The manifest and index files of a prepared folder (prepared_format.h), read and written in one
// place for the reader (prepared_images.h) and the writer (prepared_writer.h).
//
//   read_prepared_manifest(dir)    nullopt when DIR/prepared.json does not exist; ConfigError
//                                  ("data.prepared") naming the file when it is not a manifest of
//                                  this format and version
//   write_prepared_manifest(dir,m) writes prepared.json.partial, then renames it over prepared.json
//                                  (a reader sees the old or the new manifest, never half of one)
//   read_shard_index(idx, u8, n)   the records of one shard, checked against its .u8: the header's
//                                  magic, image count (= n when n ≥ 0) and channels, contiguous
//                                  offsets from 0, each image's bytes = height·width·channels, the
//                                  last image ending at the .u8's size. DataError naming the file.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/data/prepared/prepared_format.h"
#include "engine/data/prepared/prepared_images.h"

namespace lorica {

struct PreparedShardEntry {
    std::string file;  // "shard-NNNNN" (the .u8 and .idx beside each other)
    int64_t images = 0;
    int64_t bytes = 0;  // of the .u8
};

struct PreparedSetEntry {
    std::string folder;  // "set-<digest>"
    std::string description;
    int channels = 3;
    int64_t images = 0;
    SourceFingerprint source;
    std::vector<PreparedShardEntry> shards;  // in image order; all of them once the manifest is complete
};

struct PreparedManifest {
    bool complete = false;
    PreparedTransform transform;
    int64_t images_per_shard = kImagesPerShard;
    std::vector<PreparedSetEntry> sets;
};

std::optional<PreparedManifest> read_prepared_manifest(const std::string& dir);
// Throws PrepareWriteError (prepared_writer.h) naming the file when it cannot be written.
void write_prepared_manifest(const std::string& dir, const PreparedManifest& manifest);

// "shard-00042".
std::string prepared_shard_name(int64_t shard);
// "set-<digest>".
std::string prepared_set_folder(const SourceFingerprint& source);

// `channels`: the set's; `images` < 0: any count. Reads only the .idx and the .u8's size.
std::vector<PreparedRecord> read_shard_index(const std::string& idx_path, const std::string& u8_path, int channels,
                                             int64_t images);

}  // namespace lorica
