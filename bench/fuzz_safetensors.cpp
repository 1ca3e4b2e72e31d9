// libFuzzer target for the safetensors reader (engine/io/safetensors*.cpp). Built by the "fuzz" preset
// and run by bench/run_fuzz.sh.
//
// Any input must either open, or throw SafetensorsError. For an input that opens, every accessor must work, and the
// file must survive a write/read round trip: serializing its tensors and reading that back gives the same tensors,
// and serializing again gives the same bytes. Anything else (another exception, a sanitizer report, a trap) is a bug.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/io/safetensors.h"

namespace {

void check(bool condition) {
    if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lorica;
    std::optional<SafetensorsFile> opened;
    try {
        opened = SafetensorsFile::open_from_bytes({data, size}, "fuzz.safetensors");
    } catch (const SafetensorsError&) {
        return 0;  // rejected: fine, as long as nothing else went wrong
    }
    const SafetensorsFile& file = *opened;

    std::vector<TensorData> tensors;
    std::uint64_t covered = 0;
    for (const std::string& name : file.names()) {
        const TensorView& view = file.tensor(name);
        check(view.name == name && file.contains(name));
        check(view.offset == covered);
        covered += view.bytes.size();
        check(view.numel() >= 0);
        check(static_cast<std::uint64_t>(view.numel()) * dtype_size(view.dtype) == view.bytes.size());
        check(to_float(view).size() == static_cast<std::size_t>(view.numel()));
        tensors.push_back(TensorData::from_view(view));
    }
    check(covered == file.data_size());
    try {
        file.tensor("\x01 not a tensor name");
        check(file.contains("\x01 not a tensor name"));
    } catch (const SafetensorsError&) {}
    (void)describe_safetensors(file);

    const std::vector<std::uint8_t> bytes = serialize_safetensors(tensors, file.metadata());
    const SafetensorsFile again = SafetensorsFile::open_from_bytes(bytes, "again");
    check(again.size() == file.size() && again.metadata() == file.metadata());
    std::vector<TensorData> tensors_again;
    for (const TensorView& view : again.tensors()) {
        const TensorView& original = file.tensor(view.name);
        check(view.dtype == original.dtype && view.shape == original.shape);
        check(std::vector<std::uint8_t>(view.bytes.begin(), view.bytes.end()) ==
              std::vector<std::uint8_t>(original.bytes.begin(), original.bytes.end()));
        tensors_again.push_back(TensorData::from_view(view));
    }
    check(serialize_safetensors(tensors_again, again.metadata()) == bytes);
    return 0;
}
