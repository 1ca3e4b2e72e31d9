// libFuzzer target for the CIFAR binary batch reader (engine/data/cifar_records.cpp): the input is
// parsed as a CIFAR-10 batch, a CIFAR-100 batch (coarse and fine labels) and as a class-names file.
//
// A batch either parses, or throws DataError and appends nothing. A batch that parses gives one label
// in [0, num_classes) and 3,072 pixel bytes per record, equal to the record's bytes. The names list
// always has exactly `count` non-empty names. Anything else is a bug.

#include <cstdint>
#include <cstring>

#include "bench/fuzz_support.h"
#include "engine/data/cifar_records.h"
#include "engine/data/idx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lorica;
    const std::span<const std::uint8_t> bytes(data, size);
    for (const CifarLayout layout : {CifarLayout{1, 0, 10}, CifarLayout{2, 0, 20}, CifarLayout{2, 1, 100}}) {
        std::vector<std::uint8_t> pixels = {7};  // a previous batch's byte: kept, and nothing else on failure
        std::vector<std::int64_t> labels = {3};
        try {
            parse_cifar_batch(bytes, "fuzz.bin", layout, pixels, labels);
        } catch (const DataError&) {
            fuzz::check(pixels.size() == 1 && labels.size() == 1);
            continue;
        } catch (const std::exception& e) {
            fuzz::unexpected_exception(e.what());
        }
        const std::size_t record = static_cast<std::size_t>(layout.label_bytes + kCifarImageBytes);
        const std::size_t n = size / record;
        fuzz::check(n >= 1 && n * record == size);
        fuzz::check(labels.size() == n + 1 && pixels.size() == n * kCifarImageBytes + 1);
        for (std::size_t i = 0; i < n; ++i) {
            fuzz::check(labels[i + 1] >= 0 && labels[i + 1] < layout.num_classes);
            fuzz::check(labels[i + 1] == data[i * record + layout.label_index]);
            fuzz::check(std::memcmp(pixels.data() + 1 + i * kCifarImageBytes, data + i * record + layout.label_bytes,
                                    kCifarImageBytes) == 0);
        }
    }
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (int count : {10, 20, 100}) {
        const std::vector<std::string> names = parse_cifar_class_names(text, count);
        fuzz::check(static_cast<int>(names.size()) == count);
        for (const std::string& name : names)
            fuzz::check(!name.empty() && name.back() != ' ' && name.back() != '\r' &&
                        name.find('\n') == std::string::npos);
    }
    return 0;
}
