#pragma once
// The records of one CIFAR binary batch file and its class-name lists, parsed from bytes.
// Plain C++, no LibTorch: cifar_binary.cpp reads the files and turns the result into tensors, and
// bench/fuzz_cifar.cpp fuzzes these functions directly.
//
// A batch is a whole, non-zero number of records of `label_bytes + kCifarImageBytes` bytes:
//   CIFAR-10:  label_bytes 1, label_index 0 (the class, 0..9)
//   CIFAR-100: label_bytes 2, label_index 0 (coarse, 0..19) or 1 (fine, 0..99)
// followed by the 3,072 pixel bytes ([3, 32, 32] uint8, planes R, G, B).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lorica {

inline constexpr int64_t kCifarImageBytes = 3 * 32 * 32;

struct CifarLayout {
    int label_bytes = 1;   // 1 (CIFAR-10) or 2 (CIFAR-100)
    int label_index = 0;   // which label byte is the class, < label_bytes
    int num_classes = 10;  // labels must be < num_classes
};

// Appends the batch's pixels ([n, 3, 32, 32] bytes) and labels (n values in [0, num_classes)).
// Throws DataError (data_error.h) starting with `name`: a size that is not a whole, non-zero number of
// records ("truncated?"), or a label out of range (naming the record). Nothing is appended then.
void parse_cifar_batch(std::span<const uint8_t> bytes, const std::string& name, const CifarLayout& layout,
                       std::vector<uint8_t>& pixels, std::vector<int64_t>& labels);

// Class names from a names file's text: one per non-empty line, trailing spaces and '\r' dropped.
// When the file does not have exactly `count` names, "class_0" .. "class_<count-1>" instead.
std::vector<std::string> parse_cifar_class_names(std::string_view text, int count);

}  // namespace lorica
