#pragma once
// The index of an image-folder data set: which PNG/JPEG file is which class, in which split. Only
// the folder layout and the file lists are read here (no image is opened); image_folder.h loads the
// data set from this index.
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
// from the test split, a list line without a label or with a missing file.

#include <map>
#include <string>
#include <vector>

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

// The pieces of a scan, for other layouts (foundation_data.h):
// the class folders of `dir`, sorted (DataError when `dir` is missing or has none);
std::vector<std::string> sorted_class_folders(const std::string& dir);
// the image files of `dir`, sorted by path (DataError when there are none);
std::vector<std::string> sorted_image_files(const std::string& dir);
// the entries of one list file (lines "<path relative to root> <label index>"); `names` gets, per
// label, the parent folder of its first image. DataError naming the file and line.
std::vector<ImageEntry> read_image_list(const std::string& root, const std::string& list,
                                        std::map<int, std::string>& names);

}  // namespace lorica
