// safetensors reader: the file's bytes (a read-only mapping, or a buffer where mapping fails), the strict validation
// of the header, and the tensor lookup. See safetensors.h for the rules enforced.

#include "engine/io/safetensors.h"
#include "engine/io/safetensors_messages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <tuple>
#include <unordered_set>
#include <utility>

namespace lorica {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------------------------------
// Storage: the bytes of one file, either mapped (unmapped on destruction) or owned.
// ---------------------------------------------------------------------------------------------------------------------

class SafetensorsFile::Storage {
public:
    explicit Storage(std::vector<std::uint8_t> owned) : owned_(std::move(owned)) {}
    Storage(void* mapping, std::size_t length) : mapping_(mapping), mapping_length_(length) {}
    ~Storage() {
        if (mapping_ != nullptr) ::munmap(mapping_, mapping_length_);
    }
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;

    std::span<const std::uint8_t> bytes() const {
        if (mapping_ != nullptr) return {static_cast<const std::uint8_t*>(mapping_), mapping_length_};
        return {owned_.data(), owned_.size()};
    }

private:
    void* mapping_ = nullptr;
    std::size_t mapping_length_ = 0;
    std::vector<std::uint8_t> owned_;
};

namespace {

// A file descriptor closed on scope exit.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd) : fd_(fd) {}
    ~FileDescriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    int get() const { return fd_; }

private:
    int fd_;
};

using safetensors_messages::fail;
using safetensors_messages::quote;

[[noreturn]] void fail_tensor(const std::string& file, const std::string& tensor, const std::string& message) {
    throw SafetensorsError(file + ": tensor " + quote(tensor) + ": " + message);
}

// A short, non-recursive description of a JSON value for error messages ("a list of 3 items", "-1", "\"x\"").
std::string describe(const json& value) {
    switch (value.type()) {
        case json::value_t::null:
            return "null";
        case json::value_t::boolean:
            return value.get<bool>() ? "true" : "false";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float:
            return value.dump();
        case json::value_t::string:
            return "the string " + quote(value.get_ref<const std::string&>());
        case json::value_t::array:
            return "a list of " + std::to_string(value.size()) + " items";
        case json::value_t::object:
            return "an object";
        default:
            return "an unsupported value";
    }
}

// A non-negative integer that fits int64 (so shapes convert to std::int64_t and offsets stay far from overflow).
std::optional<std::uint64_t> as_count(const json& value) {
    if (value.is_number_unsigned()) {
        const auto v = value.get<std::uint64_t>();
        if (v <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return v;
        return std::nullopt;
    }
    if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if (v >= 0) return static_cast<std::uint64_t>(v);
    }
    return std::nullopt;
}

// A SAX pass over the header that finds the first duplicate key at any depth (nlohmann's DOM keeps only one).
class DuplicateKeyFinder : public nlohmann::json_sax<json> {
public:
    struct Duplicate {
        std::size_t depth = 0;  // 1: a top-level key (a tensor name), 2: a key inside a top-level entry, ...
        std::string key;        // the repeated key
        std::string parent;     // at depth 2: the top-level key whose object repeats `key`
    };
    std::optional<Duplicate> duplicate;

    bool null() override { return value(); }
    bool boolean(bool) override { return value(); }
    bool number_integer(number_integer_t) override { return value(); }
    bool number_unsigned(number_unsigned_t) override { return value(); }
    bool number_float(number_float_t, const string_t&) override { return value(); }
    bool string(string_t&) override { return value(); }
    bool binary(binary_t&) override { return value(); }
    bool start_object(std::size_t) override {
        frames_.push_back(Frame{true, {}, pending_key(), {}});
        return true;
    }
    bool key(string_t& key) override {
        Frame& frame = frames_.back();
        if (!frame.keys.insert(key).second) {
            duplicate = Duplicate{frames_.size(), key, frames_.size() == 2 ? frame.key_in_parent : std::string()};
            return false;  // stop parsing
        }
        frame.last_key = key;
        return true;
    }
    bool end_object() override {
        frames_.pop_back();
        return true;
    }
    bool start_array(std::size_t) override {
        frames_.push_back(Frame{false, {}, pending_key(), {}});
        return true;
    }
    bool end_array() override {
        frames_.pop_back();
        return true;
    }
    bool parse_error(std::size_t, const std::string&, const nlohmann::json::exception&) override { return false; }

private:
    struct Frame {
        bool object;
        std::unordered_set<std::string> keys;
        std::string key_in_parent;
        std::string last_key;
    };
    // Only the top-level key matters for messages; deeper frames do not need their parent's key.
    std::string pending_key() const {
        if (frames_.size() == 1 && frames_.back().object) return frames_.back().last_key;
        return {};
    }
    bool value() { return true; }

    std::vector<Frame> frames_;
};

// A header entry after validation of its fields.
struct Entry {
    std::string name;
    Dtype dtype;
    std::vector<std::int64_t> shape;
    std::uint64_t begin;
    std::uint64_t end;
};

std::string dtype_list() {
    std::string out;
    for (Dtype dtype : kAllDtypes) {
        if (!out.empty()) out += ", ";
        out += to_string(dtype);
    }
    return out;
}

std::string range(std::uint64_t begin, std::uint64_t end) {
    std::string out = "[";  // appended piecewise: `"[" + std::string` trips GCC 12's -Wrestrict false positive
    out += std::to_string(begin);
    out += ", ";
    out += std::to_string(end);
    out += ')';
    return out;
}

Entry parse_entry(const std::string& file, const std::string& name, const json& value) {
    if (!value.is_object()) fail_tensor(file, name, "entry is " + describe(value) + ", expected an object");
    for (const auto& [key, field] : value.items()) {
        if (key != "dtype" && key != "shape" && key != "data_offsets") {
            fail_tensor(file, name, "unknown field " + quote(key) + " (expected dtype, shape, data_offsets)");
        }
    }
    for (const char* required : {"dtype", "shape", "data_offsets"}) {
        if (!value.contains(required)) fail_tensor(file, name, std::string("missing field \"") + required + "\"");
    }

    Entry entry;
    entry.name = name;

    const json& dtype = value["dtype"];
    if (!dtype.is_string()) fail_tensor(file, name, "dtype is " + describe(dtype) + ", expected a string");
    const auto parsed = parse_dtype(dtype.get_ref<const std::string&>());
    if (!parsed) {
        fail_tensor(
            file, name,
            "unknown dtype " + quote(dtype.get_ref<const std::string&>()) + " (expected one of " + dtype_list() + ")");
    }
    entry.dtype = *parsed;

    const json& shape = value["shape"];
    if (!shape.is_array()) {
        fail_tensor(file, name, "shape is " + describe(shape) + ", expected a list of non-negative integers");
    }
    for (std::size_t i = 0; i < shape.size(); ++i) {
        const auto dim = as_count(shape[i]);
        if (!dim) {
            fail_tensor(file, name,
                        "shape[" + std::to_string(i) + "] is " + describe(shape[i]) +
                            ", expected a non-negative integer (shape must be a list of non-negative integers)");
        }
        entry.shape.push_back(static_cast<std::int64_t>(*dim));
    }
    // The element count, checked for overflow (a zero dimension makes it 0 whatever the others are).
    std::uint64_t numel = 1;
    if (std::find(entry.shape.begin(), entry.shape.end(), 0) != entry.shape.end()) {
        numel = 0;
    } else {
        for (std::int64_t d : entry.shape) {
            const auto dim = static_cast<std::uint64_t>(d);
            if (dim > std::numeric_limits<std::uint64_t>::max() / numel) {
                fail_tensor(file, name, "shape " + format_shape(entry.shape) + " is too large");
            }
            numel *= dim;
        }
    }

    const json& offsets = value["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2) {
        fail_tensor(file, name,
                    "data_offsets is " + describe(offsets) + ", expected a list of two integers [begin, end]");
    }
    const auto begin = as_count(offsets[0]);
    const auto end = as_count(offsets[1]);
    if (!begin || !end) {
        fail_tensor(file, name,
                    "data_offsets must be two non-negative integers, got [" + describe(offsets[0]) + ", " +
                        describe(offsets[1]) + "]");
    }
    if (*begin > *end) {
        fail_tensor(file, name,
                    "data_offsets [" + std::to_string(*begin) + ", " + std::to_string(*end) + "] have begin > end");
    }
    entry.begin = *begin;
    entry.end = *end;

    const std::uint64_t element = dtype_size(entry.dtype);
    if (numel > std::numeric_limits<std::uint64_t>::max() / element) {
        fail_tensor(file, name, "shape " + format_shape(entry.shape) + " is too large");
    }
    const std::uint64_t expected = numel * element;
    if (entry.end - entry.begin != expected) {
        fail_tensor(file, name,
                    "data_offsets " + range(entry.begin, entry.end) + " hold " +
                        std::to_string(entry.end - entry.begin) + " bytes, but " + to_string(entry.dtype) + " " +
                        format_shape(entry.shape) + " needs " + std::to_string(expected) + " (product of shape x " +
                        std::to_string(element) + ")");
    }
    return entry;
}

std::map<std::string, std::string> parse_metadata(const std::string& file, const json& value) {
    std::map<std::string, std::string> metadata;
    if (value.is_null()) return metadata;  // the reference implementation reads null as "no metadata"
    if (!value.is_object()) fail(file, "\"__metadata__\" is " + describe(value) + ", expected an object of strings");
    for (const auto& [key, entry] : value.items()) {
        if (!entry.is_string()) {
            fail(file, "\"__metadata__\" key " + quote(key) + ": value is " + describe(entry) + ", expected a string");
        }
        metadata.emplace(key, entry.get<std::string>());
    }
    return metadata;
}

// Levenshtein distance on (at most) the first 256 bytes, for "did you mean" lists.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    a = a.substr(0, 256);
    b = b.substr(0, 256);
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------------
// Opening
// ---------------------------------------------------------------------------------------------------------------------

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) fail(path, std::string("cannot open: ") + std::strerror(errno));
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) fail(path, std::string("cannot stat: ") + std::strerror(errno));
    if (S_ISDIR(info.st_mode)) fail(path, "is a directory, not a safetensors file");

    if (S_ISREG(info.st_mode) && info.st_size > 0) {
        const auto length = static_cast<std::size_t>(info.st_size);
        void* mapping = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd.get(), 0);
        if (mapping != MAP_FAILED) return parse(std::make_shared<const Storage>(mapping, length), path);
    }

    // Fallback: read everything (pipes, special files, empty files, file systems without mmap).
    std::vector<std::uint8_t> bytes;
    if (S_ISREG(info.st_mode) && info.st_size > 0) bytes.reserve(static_cast<std::size_t>(info.st_size));
    std::uint8_t chunk[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd.get(), chunk, sizeof(chunk));
        if (got < 0) {
            if (errno == EINTR) continue;
            fail(path, std::string("cannot read: ") + std::strerror(errno));
        }
        if (got == 0) break;
        bytes.insert(bytes.end(), chunk, chunk + got);
    }
    return parse(std::make_shared<const Storage>(std::move(bytes)), path);
}

SafetensorsFile SafetensorsFile::open_from_bytes(std::span<const std::uint8_t> bytes, std::string name) {
    return parse(std::make_shared<const Storage>(std::vector<std::uint8_t>(bytes.begin(), bytes.end())),
                 std::move(name));
}

// ---------------------------------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------------------------------

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<const Storage> storage, std::string path) {
    const std::span<const std::uint8_t> bytes = storage->bytes();
    const std::string& file = path;

    if (bytes.size() < 8) {
        fail(file, "file is " + std::to_string(bytes.size()) +
                       " bytes, shorter than the 8-byte header length (not a safetensors file, or truncated)");
    }
    std::uint64_t header_length = 0;
    for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | bytes[static_cast<std::size_t>(i)];
    const std::uint64_t after_length = bytes.size() - 8;
    if (header_length == 0) fail(file, "header length is 0 (a header is at least \"{}\")");
    if (header_length > kSafetensorsMaxHeaderBytes) {
        fail(file, "header length " + std::to_string(header_length) + " exceeds the limit of " +
                       std::to_string(kSafetensorsMaxHeaderBytes) + " bytes (not a safetensors file?)");
    }
    if (header_length > after_length) {
        fail(file, "header length " + std::to_string(header_length) + " is larger than the rest of the file (" +
                       std::to_string(after_length) + " bytes): truncated, or not a safetensors file");
    }

    const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
    const auto* header_end = header_begin + header_length;
    json header;
    try {
        header = json::parse(header_begin, header_end);
    } catch (const json::parse_error& e) {
        // The parser's message has the position ("line 1, column 23") and the token it read, which may hold raw
        // bytes of the file: show those as \xNN so a binary file cannot garble the terminal.
        std::string detail;
        for (const char c : std::string_view(e.what()).substr(0, 300)) {
            const auto byte = static_cast<unsigned char>(c);
            if (byte >= 0x20 && byte < 0x7F) {
                detail += c;
            } else {
                static constexpr char kHex[] = "0123456789abcdef";
                detail += "\\x";
                detail += kHex[byte >> 4];
                detail += kHex[byte & 0xF];
            }
        }
        fail(file, "invalid JSON header (" + std::to_string(header_length) + " bytes, parser stopped at byte " +
                       std::to_string(e.byte) + "): " + detail);
    } catch (const json::exception& e) {
        // Not a syntax error but still a bad header, e.g. out_of_range for a number beyond double ("1E400").
        // Found by bench/fuzz_safetensors.cpp.
        fail(file, "invalid JSON header (" + std::to_string(header_length) +
                       " bytes): " + std::string(std::string_view(e.what()).substr(0, 300)));
    }
    if (!header.is_object()) fail(file, "header is " + describe(header) + ", expected a JSON object");

    DuplicateKeyFinder finder;
    json::sax_parse(header_begin, header_end, &finder);
    if (finder.duplicate) {
        const auto& d = *finder.duplicate;
        if (d.depth == 1) fail_tensor(file, d.key, "duplicate tensor name in the header");
        if (d.depth == 2 && d.parent == "__metadata__") fail(file, "duplicate \"__metadata__\" key " + quote(d.key));
        if (d.depth == 2) fail_tensor(file, d.parent, "duplicate field " + quote(d.key));
        fail(file, "duplicate key " + quote(d.key) + " in the header");
    }

    SafetensorsFile result;
    std::vector<Entry> entries;
    entries.reserve(header.size());
    for (const auto& [key, value] : header.items()) {
        if (key == "__metadata__") {
            result.metadata_ = parse_metadata(file, value);
        } else {
            entries.push_back(parse_entry(file, key, value));
        }
    }

    // Sorted by offset, the tensors must tile [0, data length) exactly.
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.begin, a.end, a.name) < std::tie(b.begin, b.end, b.name);
    });
    std::uint64_t covered = 0;
    const Entry* previous = nullptr;
    for (const Entry& entry : entries) {
        if (entry.begin > covered) {
            if (previous == nullptr) {
                fail_tensor(file, entry.name,
                            "data begins at offset " + std::to_string(entry.begin) + ", leaving a gap of " +
                                std::to_string(entry.begin) + " bytes at the start of the data section");
            }
            fail(file, "gap of " + std::to_string(entry.begin - covered) + " bytes between tensor " +
                           quote(previous->name) + " " + range(previous->begin, previous->end) + " and tensor " +
                           quote(entry.name) + " " + range(entry.begin, entry.end) +
                           " (tensors must be tightly packed)");
        }
        if (entry.begin < covered) {
            fail(file, "tensor " + quote(entry.name) + " " + range(entry.begin, entry.end) + " overlaps tensor " +
                           quote(previous->name) + " " + range(previous->begin, previous->end));
        }
        covered = entry.end;
        previous = &entry;
    }

    const std::uint64_t data_length = after_length - header_length;
    if (covered > data_length) {
        for (const Entry& entry : entries) {
            if (entry.end > data_length) {
                fail_tensor(file, entry.name,
                            "data " + range(entry.begin, entry.end) +
                                " extends past the end of the file: the data "
                                "section has only " +
                                std::to_string(data_length) + " bytes (truncated file?)");
            }
        }
    }
    if (covered < data_length) {
        const std::uint64_t extra = data_length - covered;
        const std::string excess = std::to_string(extra) + (extra == 1 ? " trailing byte" : " trailing bytes");
        if (previous == nullptr) fail(file, excess + " after the header, which declares no tensors");
        fail(file, excess + " after the last tensor " + quote(previous->name) + " (which ends at " +
                       std::to_string(covered) + " of a " + std::to_string(data_length) + "-byte data section)");
    }

    const std::uint8_t* data = bytes.data() + 8 + header_length;
    result.tensors_.reserve(entries.size());
    result.names_.reserve(entries.size());
    for (Entry& entry : entries) {
        TensorView view;
        view.name = entry.name;
        view.dtype = entry.dtype;
        view.shape = std::move(entry.shape);
        view.offset = entry.begin;
        view.bytes = {data + entry.begin, static_cast<std::size_t>(entry.end - entry.begin)};
        result.index_.emplace(entry.name, result.tensors_.size());
        result.names_.push_back(std::move(entry.name));
        result.tensors_.push_back(std::move(view));
    }
    result.path_ = std::move(path);
    result.storage_ = std::move(storage);
    result.header_size_ = header_length;
    result.data_size_ = data_length;
    return result;
}

// ---------------------------------------------------------------------------------------------------------------------
// Lookup
// ---------------------------------------------------------------------------------------------------------------------

const TensorView& SafetensorsFile::tensor(const std::string& name) const {
    const auto found = index_.find(name);
    if (found != index_.end()) return tensors_[found->second];

    std::string message = "no tensor " + quote(name);
    if (tensors_.empty()) {
        message += " (the file has no tensors)";
    } else {
        std::vector<std::pair<std::size_t, std::size_t>> ranked;  // (distance, index)
        ranked.reserve(tensors_.size());
        for (std::size_t i = 0; i < tensors_.size(); ++i) ranked.emplace_back(edit_distance(name, names_[i]), i);
        const std::size_t shown = std::min<std::size_t>(5, ranked.size());
        std::partial_sort(ranked.begin(), ranked.begin() + static_cast<std::ptrdiff_t>(shown), ranked.end());
        message += " (the file has " + std::to_string(tensors_.size());
        message += tensors_.size() == 1 ? " tensor; closest: " : " tensors; closest: ";
        for (std::size_t i = 0; i < shown; ++i) {
            if (i != 0) message += ", ";
            message += quote(names_[ranked[i].second]);
        }
        message += ")";
    }
    fail(path_, message);
}

std::vector<float> SafetensorsFile::to_float(const std::string& name) const { return ::lorica::to_float(tensor(name)); }

}  // namespace lorica
