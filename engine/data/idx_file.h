#pragma once
// IDX files (the MNIST / Fashion-MNIST format), read directly from gzip (or plain) files.
//
// Layout: big-endian u32 magic 0x0000TTDD (TT = element type, 0x08 = unsigned byte; DD = number of
// dimensions), DD big-endian u32 sizes, then the elements. Images are 0x00000803 [N, rows, cols],
// labels 0x00000801 [N].

#include <cstdint>
#include <string>
#include <vector>

#include "engine/data/data_error.h"

namespace lorica {

struct IdxArray {
    std::vector<int64_t> dims;  // e.g. [60000, 28, 28]
    std::vector<uint8_t> data;  // row-major, product(dims) bytes
};

// Reads an unsigned-byte IDX file with `expected_dims` dimensions. Throws DataError naming the file
// for: a missing file, a bad magic number, a wrong element type or dimension count, a truncated
// body, trailing bytes, or corrupt gzip data.
IdxArray read_idx_file(const std::string& path, int expected_dims);

}  // namespace lorica
