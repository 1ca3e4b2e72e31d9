#pragma once
// The check a streamed image data set gets when it is loaded: every file's header is read
// (image_header.h) on the data layer's thread pool (decode_pool.h), so a missing, unreadable or
// non-image file fails before the run starts, without decoding a pixel.
//
// Threads: min(hardware threads, 8, entries / 64), at least 1 (the calling thread is one of them).

#include <vector>

#include "engine/data/image_folder_index.h"

namespace lorica {

// Throws DataError "image folder: <path>: <what>" for the first bad file found (with several
// threads, not necessarily the first in `entries`).
void check_image_headers(const std::vector<ImageEntry>& entries);

}  // namespace lorica
