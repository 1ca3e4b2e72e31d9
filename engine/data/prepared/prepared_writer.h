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

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/data/image_store.h"
#include "engine/data/prepared/prepared_images.h"
#include "engine/vocabulary/cancel_token.h"

namespace lorica {

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
