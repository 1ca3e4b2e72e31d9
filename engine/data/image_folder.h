#pragma once
// Loading an image-folder data set (layouts and file lists: image_folder_index.h), streamed: the
// splits are FileImageStores (image_store.h) that the streaming pipeline decodes per batch; no pixel
// is decoded here. Every file's header is read (image_header_check.h), so a missing, unreadable or
// non-image file fails at load time, naming the file.

#include <string>

#include "engine/data/raw_dataset.h"

namespace lorica {

// `channels` (1 or 3; backbone.in_channels) is what every image is converted to when decoded.
// Throws ConfigError("backbone.in_channels") for other channel counts, DataError naming the folder,
// list or file otherwise.
RawDataset load_image_folder(const std::string& root, const std::string& file_list, int channels);

}  // namespace lorica
