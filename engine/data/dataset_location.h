#pragma once
// Where a configured data set is read from, and whether its files are there: the set-up panel's
// "found" / "missing" line under data.root. A quick look at the layout (files and folders exist), not
// a load: preflight still reads every file before a run.
//
//   fashion-mnist  data.root, or (empty) $LORICA_FASHION_MNIST_ROOT, else the embedded default
//                  /usr/share/datasets/fashion-mnist: the four IDX files (.gz or plain)
//   cifar10        data.root (required) or its cifar-10-batches-bin/: data_batch_1..5.bin, test_batch.bin
//   cifar100       data.root (required) or its cifar-100-binary/: train.bin, test.bin
//   image-folder   data.root (required) is a folder; with data.file_list, both split lists exist
// Torch-free (no file is opened).

#include <string>

#include "engine/config/experiment_config.h"

namespace lorica {

struct DatasetLocation {
    std::string path;         // the folder looked at ("" when data.root is required and empty)
    bool is_default = false;  // data.root empty: the data set's default location
    bool present = false;
    std::string detail;  // what was found, or what is missing (names the file or field)
};

DatasetLocation locate_dataset(const DataConfig& data);

}  // namespace lorica
