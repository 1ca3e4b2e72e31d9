#pragma once
// Image-folder data sets: PNG/JPEG files organised by class.
//
// Layouts under `root` (class = folder name; classes sorted by name get labels 0, 1, ...):
//   pre-split   root/train/<class>/<image>, root/test/<class>/<image>  (the test split must have the
//               same class folders)
//   one folder  root/<class>/<image>: every 5th image of a class (sorted by file name, positions
//               4, 9, 14, ...) is a test image, the rest train (documented choice; deterministic)
//   file list   data.file_list = "list_{split}.txt": "{split}" → train / test; each line
//               "<path relative to root> <label index>" (blank lines and '#' comments skipped); a
//               class's name is the parent folder of its first image
// Files: .png, .jpg, .jpeg (any case); other files are skipped. Errors (DataError) name the folder
// or file: a missing root or split folder, no class folders, an empty class folder, a class missing
// from the test split, a list line without a label or with a missing file, an undecodable image.
//
// Loading into memory (`load_image_folder`): every image is decoded, converted to `channels`, resized
// (shorter side, bicubic) to resize_size and centre-cropped to image_size (the published test
// transform), and stored as uint8 [N, C, image_size, image_size]; decoding runs on `threads` worker
// threads. For data sets larger than memory see streaming_image_dataset.h.

#include <string>
#include <vector>

#include "engine/data/raw_dataset.h"

namespace lorica {

struct ImageEntry {
    std::string path;  // absolute or relative to the working directory
    int label = 0;
};

struct ImageFolderIndex {
    std::vector<ImageEntry> train, test;
    std::vector<std::string> class_names;
};

// Scans `root` (see the layouts above). `file_list` empty = scan folders.
ImageFolderIndex scan_image_folder(const std::string& root, const std::string& file_list = "");

struct ImageFolderLoadOptions {
    int64_t image_size = 224;
    int64_t resize_size = 0;  // 0 = image_size · 8 / 7 (256 for 224)
    int channels = 3;         // 1 or 3
    int threads = 0;          // decode threads (0 = hardware concurrency, at most 8)
};

RawDataset load_image_folder(const std::string& root, const std::string& file_list,
                             const ImageFolderLoadOptions& options);

}  // namespace lorica
