#pragma once
// The data sets Lorica reads, one record each: every fact about a data set that the config, the
// loaders, the location check, the training estimate, the set-up panel and the reports need, written
// once (class counts, class names, channels, image size, the files of its layout). Torch-free.
//
//   id             JSON name        classes                channels × size   files (under data.root)
//   fashion_mnist  fashion-mnist    10                     1 × 28 × 28       4 IDX files (.gz or plain)
//   cifar10        cifar10          10                     3 × 32 × 32       data_batch_1..5.bin, test_batch.bin
//   cifar100       cifar100         100 fine / 20 coarse   3 × 32 × 32       train.bin, test.bin
//   image_folder   image-folder     read from the folder   as configured     <root>/<class>/<image> or lists
//
// CIFAR-100 has two label sets (data.cifar100_labels): the 100 fine classes and the 20 coarse
// superclasses; every class count and name here takes the label set as an argument.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/config/enum_names.h"

namespace lorica {

// The data sets (data.dataset), spelled as in the config by kDatasetNames.
enum class DatasetId { fashion_mnist, cifar10, cifar100, image_folder };
inline constexpr EnumNames<DatasetId, 4> kDatasetNames{{{DatasetId::fashion_mnist, "fashion-mnist"},
                                                        {DatasetId::cifar10, "cifar10"},
                                                        {DatasetId::cifar100, "cifar100"},
                                                        {DatasetId::image_folder, "image-folder"}}};

// CIFAR-100's label sets (data.cifar100_labels): which label byte of a record is the class.
enum class Cifar100Labels { fine, coarse };
inline constexpr EnumNames<Cifar100Labels, 2> kCifar100LabelNames{
    {{Cifar100Labels::fine, "fine"}, {Cifar100Labels::coarse, "coarse"}}};

// One label set of a data set: its classes by label index.
struct DatasetClasses {
    int count = 0;                   // 0 = known only once the data is read (image folders)
    std::vector<std::string> names;  // [count] by label; empty when read from the data
    std::string names_file;          // the file of the layout that names them ("" = none)
};

struct DatasetInfo {
    DatasetId id = DatasetId::fashion_mnist;
    std::string title;         // "Fashion-MNIST", for people
    DatasetClasses classes;    // CIFAR-100: the fine labels
    DatasetClasses coarse;     // CIFAR-100: the 20 superclasses; count 0 elsewhere
    int channels = 0;          // of the stored images; 0 = as configured (backbone.in_channels)
    int image_size = 0;        // side of the stored (square) images in pixels; 0 = varies
    int64_t train_images = 0;  // in the full training split; 0 = varies
    int64_t test_images = 0;   // in the full test split; 0 = varies
    bool needs_root = true;    // data.root must be set (Fashion-MNIST has a default location)
    // The layout: the files the loader opens, in data.root or its `subfolder` (CIFAR's archives
    // unpack into one); `compressed_suffix` names an accepted compressed twin of each file.
    std::string subfolder;
    std::vector<std::string> train_files;
    std::vector<std::string> test_files;
    std::string compressed_suffix;

    std::string_view name() const;  // the JSON spelling (kDatasetNames)
    // The label set in use: `coarse` for CIFAR-100 with coarse labels, else `classes`.
    const DatasetClasses& classes_of(Cifar100Labels labels) const;
    // train_files then test_files.
    std::vector<std::string> files() const;
};

// Every data set, in kDatasetNames order.
const std::vector<DatasetInfo>& dataset_catalog();
const DatasetInfo& dataset_info(DatasetId id);
// The data set spelled `name` in a config (a stored run's data.dataset), or nullptr.
const DatasetInfo* find_dataset(std::string_view name);

// Classes of a configured data set (CIFAR-100: 100 fine or 20 coarse); 0 for an image folder.
int dataset_num_classes(DatasetId id, Cifar100Labels labels = Cifar100Labels::fine);
// Class names by label; empty for an image folder (its folder or list names them).
const std::vector<std::string>& dataset_class_names(DatasetId id, Cifar100Labels labels = Cifar100Labels::fine);

}  // namespace lorica
