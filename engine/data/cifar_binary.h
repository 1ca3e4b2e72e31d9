#pragma once
// CIFAR-10 / CIFAR-100 in the "binary version" layout (cifar-10-binary.tar.gz, cifar-100-binary.tar.gz).
//
//   CIFAR-10:  data_batch_1.bin .. data_batch_5.bin (train, 10,000 records each), test_batch.bin;
//              record = 1 label byte (0..9) + 3,072 pixel bytes        (3,073 bytes)
//              class names from batches.meta.txt when present (one per line)
//   CIFAR-100: train.bin (50,000 records), test.bin (10,000);
//              record = 1 coarse label byte (0..19) + 1 fine label byte (0..99) + 3,072 pixel bytes
//              class names from fine_label_names.txt / coarse_label_names.txt when present
// Pixels: 1,024 red, 1,024 green, 1,024 blue bytes, each a row-major 32×32 plane, i.e. exactly
// [3, 32, 32] uint8. `root` is the folder holding the .bin files, or its parent holding
// cifar-10-batches-bin/ or cifar-100-binary/.
//
// Errors (DataError) name the file: a missing file, a size that is not a whole number of records
// ("truncated?"), a label out of range (with the record index). The records themselves are parsed
// by cifar_records.h (no LibTorch).

#include <string>

#include "engine/data/cifar_records.h"
#include "engine/data/raw_dataset.h"

namespace lorica {

RawDataset load_cifar10(const std::string& root);
// `label` = "fine" (100 classes) or "coarse" (20 classes).
RawDataset load_cifar100(const std::string& root, const std::string& label = "fine");

}  // namespace lorica
