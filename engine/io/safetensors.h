#pragma once
// safetensors: reading and writing the tensor file format of Hugging Face's `safetensors` library.
//
// Lorica stores adapters (PEFT `adapter_model.safetensors`), checkpoints and imported backbone weights
// (timm) in this format. It is plain C++ (no LibTorch): the engine turns the byte spans into tensors.
//
// File layout (all integers little-endian):
//   [0, 8)          u64 N: the length of the JSON header in bytes
//   [8, 8 + N)      UTF-8 JSON object, possibly padded with trailing spaces (writers pad to a multiple of 8):
//                     "<tensor name>": {"dtype": "F32", "shape": [r, in], "data_offsets": [begin, end]}
//                     "__metadata__":  {"key": "value", ...}        (optional, strings only)
//   [8 + N, EOF)    the data section; each tensor's bytes are [begin, end) relative to its start, row-major
//
// Reading is strict. `SafetensorsFile::open` memory-maps the file and rejects, with a `SafetensorsError` that
// names the file and the tensor concerned: a file shorter than 8 bytes; a header length of 0, past the end of the
// file or over 100 MB; invalid JSON (with the parser's position) or invalid UTF-8; a header that is not an object;
// duplicate keys; unknown dtypes or fields; shapes that are not lists of non-negative integers; data_offsets that are
// not two integers with begin <= end; a byte size other than product(shape) x dtype size; tensors that do not tile
// the data section exactly (gaps and overlaps, naming both tensors); trailing bytes after the last tensor; a data
// section shorter than the tensors claim (truncated file); metadata values that are not strings.
//
// Writing (`write_safetensors`) produces the same bytes as the Python library's `serialize`: tensors sorted by dtype
// (widest alignment first, in the order of the Rust `Dtype` enum, descending) and then by name, tightly packed,
// `__metadata__` first with its keys sorted, the header padded with spaces to a multiple of 8 bytes. The file is
// written to `<path>.tmp`, flushed to disk and renamed over `<path>`, so a crash never leaves a half-written file.
//
// Example:
//   auto file = lorica::SafetensorsFile::open("adapter_model.safetensors");
//   for (const auto& name : file.names()) {
//       const lorica::TensorView& t = file.tensor(name);   // dtype, shape, bytes (a span into the mapping)
//       std::vector<float> values = file.to_float(name);   // any numeric dtype, converted to float32
//   }

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace lorica {

// ---------------------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------------------

// Every failure to read or write a safetensors file. The message starts with the file name (or the name given to
// `open_from_bytes`) and, where one is concerned, names the tensor: `model.safetensors: tensor "w": ...`.
class SafetensorsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The largest JSON header accepted when reading (the limit of the reference implementation).
inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;

// ---------------------------------------------------------------------------------------------------------------------
// Element types
// ---------------------------------------------------------------------------------------------------------------------

// The element types of the format, spelled as in the file. All of them can be read and written.
//  F64 F32 F16 BF16          IEEE double, single, half precision; bfloat16 (the top 16 bits of a float)
//  I64 I32 I16 I8            two's complement signed integers
//  U64 U32 U16 U8            unsigned integers
//  BOOL                      one byte per element, 0 = false, anything else = true
//  F8_E4M3 F8_E5M2           8-bit floats: E4M3 "fn" (no infinities, 0x7F/0xFF = NaN, max 448) and E5M2 (IEEE-like)
enum class Dtype { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL, U16, U32, U64, F8_E4M3, F8_E5M2 };

// Every dtype, in the order of the enum.
inline constexpr Dtype kAllDtypes[] = {Dtype::F64, Dtype::F32, Dtype::F16, Dtype::BF16,    Dtype::I64,
                                       Dtype::I32, Dtype::I16, Dtype::I8,  Dtype::U8,      Dtype::BOOL,
                                       Dtype::U16, Dtype::U32, Dtype::U64, Dtype::F8_E4M3, Dtype::F8_E5M2};

// The name used in the file ("F32", "BF16", "F8_E4M3", ...).
const char* to_string(Dtype dtype);
// The dtype for a file name ("F32" -> F32); nullopt for an unknown name. Case-sensitive, like the format.
std::optional<Dtype> parse_dtype(std::string_view name);
// Bytes per element: 8, 4, 2 or 1.
std::size_t dtype_size(Dtype dtype);

// Scalar conversions between float32 and the narrow float formats (bit patterns as stored, host order).
// Narrowing rounds to nearest, ties to even; values beyond the range become infinity (F16, BF16); NaN stays NaN.
float f16_to_float(std::uint16_t bits);
std::uint16_t float_to_f16(float value);
float bf16_to_float(std::uint16_t bits);
std::uint16_t float_to_bf16(float value);
float f8_e4m3_to_float(std::uint8_t bits);
float f8_e5m2_to_float(std::uint8_t bits);

// "[2, 3]" for {2, 3}; "[]" for a scalar.
std::string format_shape(const std::vector<std::int64_t>& shape);
// The number of elements: the product of the shape (1 for a scalar, 0 if any dimension is 0); -1 when a dimension is
// negative or the product does not fit int64 (never for a tensor read from a valid file).
std::int64_t shape_numel(const std::vector<std::int64_t>& shape);

// ---------------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------------

// One tensor of an open file. `bytes` points into the file's mapping and stays valid as long as any copy of the
// `SafetensorsFile` it came from lives.
struct TensorView {
    std::string name;                     // the key in the header
    Dtype dtype = Dtype::F32;             // element type
    std::vector<std::int64_t> shape;      // dimensions, outermost first; empty for a scalar
    std::span<const std::uint8_t> bytes;  // the raw little-endian, row-major data: numel() x dtype_size(dtype) bytes
    std::uint64_t offset = 0;             // where `bytes` begins, relative to the start of the data section

    // The number of elements (product of `shape`).
    std::int64_t numel() const { return shape_numel(shape); }
};

// The values of a tensor converted to float32, whatever its dtype (BOOL gives 0 or 1; 64-bit integers and F64 lose
// precision as a float cast would).
std::vector<float> to_float(const TensorView& view);

// An open, validated safetensors file. Cheap to copy: copies share the read-only mapping, which is unmapped when the
// last copy goes. Not meant to be used while another process rewrites the file in place (Lorica's writer never does:
// it renames a new file over the old one, which leaves existing mappings intact).
class SafetensorsFile {
public:
    // Memory-maps and validates `path` (reads it into memory where mapping fails, e.g. for a pipe).
    // Throws SafetensorsError naming the file (and the tensor) on any problem listed at the top of this header.
    static SafetensorsFile open(const std::string& path);

    // Validates an in-memory file (the bytes are copied). `name` stands for the file name in error messages.
    static SafetensorsFile open_from_bytes(std::span<const std::uint8_t> bytes, std::string name);

    // The path given to `open` (or the name given to `open_from_bytes`).
    const std::string& path() const { return path_; }

    // Tensor names in the order of their data (ascending begin offset).
    const std::vector<std::string>& names() const { return names_; }
    std::size_t size() const { return tensors_.size(); }
    bool contains(const std::string& name) const { return index_.count(name) != 0; }

    // The tensor called `name`. Throws SafetensorsError naming the file and the missing tensor, and listing the
    // closest available names, when there is none.
    const TensorView& tensor(const std::string& name) const;
    // All tensors, in the order of `names()`.
    const std::vector<TensorView>& tensors() const { return tensors_; }

    // The "__metadata__" pairs (empty when the file has none).
    const std::map<std::string, std::string>& metadata() const { return metadata_; }

    // `tensor(name)`'s values as float32 (see the free `to_float`).
    std::vector<float> to_float(const std::string& name) const;

    // Sizes of the parts of the file: the JSON header (N, padding included) and the data section.
    std::uint64_t header_size() const { return header_size_; }
    std::uint64_t data_size() const { return data_size_; }

    // Implementation detail: the bytes of the file (a mapping or an owned buffer).
    class Storage;

private:
    SafetensorsFile() = default;
    static SafetensorsFile parse(std::shared_ptr<const Storage> storage, std::string path);

    std::string path_;
    std::shared_ptr<const Storage> storage_;              // keeps `tensors_[i].bytes` valid
    std::vector<TensorView> tensors_;                     // in offset order
    std::vector<std::string> names_;                      // tensors_[i].name
    std::unordered_map<std::string, std::size_t> index_;  // name -> position in tensors_
    std::map<std::string, std::string> metadata_;
    std::uint64_t header_size_ = 0;
    std::uint64_t data_size_ = 0;
};

// ---------------------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------------------

// One tensor to write: its bytes are owned, little-endian and row-major.
struct TensorData {
    std::string name;                 // the key in the header; unique in a file, valid UTF-8, not "__metadata__"
    Dtype dtype = Dtype::F32;         // element type of `bytes`
    std::vector<std::int64_t> shape;  // dimensions, outermost first; empty for a scalar; each >= 0
    std::vector<std::uint8_t> bytes;  // exactly shape_numel(shape) x dtype_size(dtype) bytes

    // A tensor from float32 values, stored as `dtype` (F32, F64, F16 or BF16; narrowing rounds to nearest even).
    // Throws std::invalid_argument when values.size() != shape_numel(shape) or dtype is not a float type.
    static TensorData from_floats(std::string name, std::vector<std::int64_t> shape, const std::vector<float>& values,
                                  Dtype dtype = Dtype::F32);

    // A copy of a tensor read from a file (e.g. to rewrite a file with some tensors changed).
    static TensorData from_view(const TensorView& view);
};

// Writes `tensors` and `metadata` to `path` (via `<path>.tmp` and an atomic rename; the directory must exist).
// The layout is byte-for-byte what Python's `safetensors` writes for the same tensors. Throws SafetensorsError naming
// the file and the tensor on duplicate or invalid names, negative dimensions, a byte count that does not match
// shape x dtype, invalid UTF-8 in metadata, or an I/O failure; `path` is then left as it was.
void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

// The exact bytes `write_safetensors` would write (8-byte length, padded header, data), for tests and in-memory use.
std::vector<std::uint8_t> serialize_safetensors(const std::vector<TensorData>& tensors,
                                                const std::map<std::string, std::string>& metadata = {},
                                                const std::string& name_for_errors = "<memory>");

// ---------------------------------------------------------------------------------------------------------------------
// Inspection
// ---------------------------------------------------------------------------------------------------------------------

// A human-readable summary for `lorica-cli inspect`: the file's name and size, every tensor (name, dtype, shape) in
// offset order, parameter and byte totals (per dtype when there are several), and the metadata pairs. Throws
// SafetensorsError when the file is invalid.
std::string describe_safetensors(const std::string& path);
// The same summary for a file already open.
std::string describe_safetensors(const SafetensorsFile& file);

}  // namespace lorica
