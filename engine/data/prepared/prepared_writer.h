#pragma once
// Writes prepared sets (prepared_format.h): decodes every image of each source once on `workers`
// threads, resizes it (the prepared transform) and appends it to the set's shards.
//
// Resumable: a folder whose manifest says complete = false continues where it stopped (written
// shards are kept, the shard in progress is written again); a folder prepared from other sources or
// another transform is refused (ConfigError("data.prepared"), or the field of the transform) rather
// than overwritten; a complete folder of the same sources is left as it is (every image's CRC
// checked when `verify`). Progress is reported per image; `cancel` is checked between images and
// leaves a folder the next call continues. Nothing outside `dir` is written; a full disk is an error
// naming the shard file (the shards written before it stay).
//
// Errors: ConfigError("data.prepared") for a folder that is not empty and holds no manifest, or holds
// sets of other sources; ConfigError("data.resize_size") for a folder prepared at another size;
// DataError naming the file for an image that cannot be decoded; PrepareWriteError (a DataError)
// naming the file for what cannot be written; Cancelled when `cancel` was requested.
//
// How: the sources are fingerprinted (prepared_images.h; two sources with one fingerprint are one
// set, an empty source is no set); the manifest is written (complete = false) before any shard; then
// each shard not yet on disk is decoded in chunks of max(8, 4·workers) images on `workers` threads
// of a DecodePool (intra-op parallelism off), written in order to shard-NNNNN.u8.partial, synced and renamed
// to .u8, then its .idx likewise; the manifest is rewritten after every shard and, last, with
// complete = true. Memory in flight: one chunk of resized images (4·workers · ~200 KB at 256 px).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/data_error.h"
#include "engine/data/prepared/prepared_images.h"
#include "engine/vocabulary/cancel_token.h"

namespace lorica {

class ImageStore;  // image_store.h (this header stays torch-free: the GUI includes it)

// A file of the prepared folder that cannot be written (a full disk, no permission): the message
// starts with the file. A failure while writing, not bad input (`lorica-cli prepare` exits 1).
class PrepareWriteError : public DataError {
public:
    using DataError::DataError;
};

struct PrepareSource {
    std::shared_ptr<const ImageStore> store;
    std::string description;  // e.g. "imagenet-r train (/data/imagenet-r)"
};

struct PrepareProgress {
    int64_t done = 0, total = 0;  // images over every set (kept ones count as done)
    std::string set;              // description of the set being written
};

struct PrepareOptions {
    PreparedTransform transform;
    int workers = 1;                                       // decoder threads (≥ 1)
    bool verify = false;                                   // a complete folder: check every image's CRC-32
    std::function<void(const PrepareProgress&)> progress;  // called on the calling thread
    CancelToken* cancel = nullptr;
    // Images a shard holds (the last one of a set fewer) in a new folder; a folder being continued
    // keeps its own (the manifest's images_per_shard). Tests use a few to get several shards.
    int64_t images_per_shard = kImagesPerShard;
};

struct PrepareSummary {
    int64_t images = 0;          // in every set
    int64_t images_written = 0;  // by this call (0 when the folder was complete)
    int64_t bytes = 0;           // of every shard
    double seconds = 0;
};

PrepareSummary prepare_images(const std::string& dir, const std::vector<PrepareSource>& sources,
                              const PrepareOptions& options);

}  // namespace lorica
