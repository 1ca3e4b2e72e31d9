#pragma once
// Fashion-MNIST: 60,000 training and 10,000 test images, 28 × 28 gray, 10 classes, as the four IDX
// files (idx_file.h; gzipped as the Debian package dataset-fashion-mnist ships them, or plain):
//   train-images-idx3-ubyte  [60000, 28, 28]   train-labels-idx1-ubyte  [60000]
//   t10k-images-idx3-ubyte   [10000, 28, 28]   t10k-labels-idx1-ubyte   [10000]
// Loaded into memory: images uint8 [N, 1, 28, 28], labels int64 [N] in [0, 10).

#include <string>

#include "engine/data/raw_dataset.h"

namespace lorica {

// The default location of the embedded Fashion-MNIST (Debian package dataset-fashion-mnist).
inline constexpr const char* kFashionMnistDefaultRoot = "/usr/share/datasets/fashion-mnist";

// Where Fashion-MNIST is read from: `configured` (data.root) when set, else $LORICA_FASHION_MNIST_ROOT
// when set (a machine where the Debian package is unpacked into a prefix rather than installed, e.g.
// bench/device/check.sh), else kFashionMnistDefaultRoot.
std::string fashion_mnist_root(const std::string& configured);

// Throws DataError naming the file: a missing file (with the package hint), a malformed IDX file,
// image and label counts that differ, a label outside 0..9.
RawDataset load_fashion_mnist(const std::string& root);

}  // namespace lorica
