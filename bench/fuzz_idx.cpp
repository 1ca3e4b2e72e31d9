// libFuzzer target for the IDX reader (engine/data/idx_file.cpp): the input is written to a file,
// read as gzip or plain IDX (zlib decides), expecting 1 dimension (labels) and 3 (images).
//
// Any input must either read, or throw DataError. For an input that reads: the dimension count is
// the one asked for, every size is in [1, 2^28], and the data holds exactly their product bytes.
// Anything else (another exception, a sanitizer report, an allocation over libFuzzer's limit) is a bug.

#include <cstdint>

#include "bench/fuzz_support.h"
#include "engine/data/idx_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lorica;
    const std::string path = fuzz::write_scratch_file("input.idx", std::span<const std::uint8_t>(data, size));
    for (int dims : {1, 3}) {
        try {
            const IdxArray array = read_idx_file(path, dims);
            fuzz::check(static_cast<int>(array.dims.size()) == dims);
            std::uint64_t count = 1;
            for (std::int64_t d : array.dims) {
                fuzz::check(d >= 1 && d <= (std::int64_t(1) << 28));
                count *= static_cast<std::uint64_t>(d);
            }
            fuzz::check(array.data.size() == count);
        } catch (const DataError&) {
        } catch (const std::exception& e) {
            fuzz::unexpected_exception(e.what());
        }
    }
    return 0;
}
