#include "engine/data/cifar_records.h"

#include <cstring>

#include "engine/data/data_error.h"

namespace lorica {

void parse_cifar_batch(std::span<const uint8_t> bytes, const std::string& name, const CifarLayout& layout,
                       std::vector<uint8_t>& pixels, std::vector<int64_t>& labels) {
    const int64_t record = layout.label_bytes + kCifarImageBytes;
    if (bytes.empty() || static_cast<int64_t>(bytes.size()) % record != 0)
        throw DataError(name + ": " + std::to_string(bytes.size()) + " bytes is not a whole number of " +
                        std::to_string(record) + "-byte records (truncated?)");
    const int64_t n = static_cast<int64_t>(bytes.size()) / record;
    for (int64_t i = 0; i < n; ++i) {
        const int label = bytes[static_cast<size_t>(i * record + layout.label_index)];
        if (label >= layout.num_classes)
            throw DataError(name + ": record " + std::to_string(i) + " has label " + std::to_string(label) +
                            " (allowed 0.." + std::to_string(layout.num_classes - 1) + ")");
    }
    const size_t old = pixels.size();
    pixels.resize(old + static_cast<size_t>(n * kCifarImageBytes));
    labels.reserve(labels.size() + static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const uint8_t* rec = bytes.data() + i * record;
        labels.push_back(rec[layout.label_index]);
        std::memcpy(pixels.data() + old + i * kCifarImageBytes, rec + layout.label_bytes, kCifarImageBytes);
    }
}

std::vector<std::string> parse_cifar_class_names(std::string_view text, int count) {
    std::vector<std::string> names;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        std::string line(text.substr(0, end));
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) names.push_back(line);
    }
    if (static_cast<int>(names.size()) != count) {
        names.clear();
        for (int i = 0; i < count; ++i) names.push_back("class_" + std::to_string(i));
    }
    return names;
}

}  // namespace lorica
