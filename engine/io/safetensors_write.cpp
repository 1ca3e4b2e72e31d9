// safetensors writer: the header in the Python library's byte layout, and the atomic write (temporary file, fsync,
// rename). See safetensors.h.

#include "engine/io/safetensors.h"
#include "engine/io/safetensors_messages.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_set>

namespace lorica {

using nlohmann::json;

namespace {

// The position of a dtype in the Rust library's `Dtype` enum, which is declared in increasing alignment order;
// `serialize` sorts tensors by this rank, descending, then by name.
int python_sort_rank(Dtype dtype) {
    switch (dtype) {
        case Dtype::BOOL:
            return 0;
        case Dtype::U8:
            return 1;
        case Dtype::I8:
            return 2;
        case Dtype::F8_E5M2:
            return 3;
        case Dtype::F8_E4M3:
            return 4;
        case Dtype::I16:
            return 5;
        case Dtype::U16:
            return 6;
        case Dtype::F16:
            return 7;
        case Dtype::BF16:
            return 8;
        case Dtype::I32:
            return 9;
        case Dtype::U32:
            return 10;
        case Dtype::F32:
            return 11;
        case Dtype::F64:
            return 12;
        case Dtype::I64:
            return 13;
        case Dtype::U64:
            return 14;
    }
    return 0;
}

using safetensors_messages::fail;
using safetensors_messages::quote;

// A JSON string literal as serde_json writes it (same escapes as nlohmann); throws on invalid UTF-8.
std::string json_string(const std::string& text, const std::string& file, const std::string& what) {
    try {
        return json(text).dump();
    } catch (const json::type_error&) {
        fail(file, what + " " + quote(text) + " is not valid UTF-8");
    }
}

// Checks every tensor and returns the header (padded to a multiple of 8) and the order the data is written in.
std::pair<std::string, std::vector<std::size_t>> build_header(const std::vector<TensorData>& tensors,
                                                              const std::map<std::string, std::string>& metadata,
                                                              const std::string& file) {
    std::unordered_set<std::string_view> seen;
    for (const TensorData& t : tensors) {
        const std::string tensor = "tensor " + quote(t.name) + ": ";
        if (t.name == "__metadata__") fail(file, tensor + "the name \"__metadata__\" is reserved");
        if (!seen.insert(t.name).second) fail(file, tensor + "duplicate tensor name");
        for (std::int64_t d : t.shape) {
            if (d < 0) fail(file, tensor + "negative dimension in shape " + format_shape(t.shape));
        }
        const std::int64_t numel = shape_numel(t.shape);
        const std::uint64_t element = dtype_size(t.dtype);
        if (numel < 0 || static_cast<std::uint64_t>(numel) > std::numeric_limits<std::uint64_t>::max() / element) {
            fail(file, tensor + "shape " + format_shape(t.shape) + " is too large");
        }
        const std::uint64_t expected = static_cast<std::uint64_t>(numel) * element;
        if (t.bytes.size() != expected) {
            fail(file, tensor + "has " + std::to_string(t.bytes.size()) + " bytes, but " + to_string(t.dtype) + " " +
                           format_shape(t.shape) + " needs " + std::to_string(expected));
        }
    }

    std::vector<std::size_t> order(tensors.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const int rank_a = python_sort_rank(tensors[a].dtype);
        const int rank_b = python_sort_rank(tensors[b].dtype);
        if (rank_a != rank_b) return rank_a > rank_b;
        return tensors[a].name < tensors[b].name;
    });

    std::string header = "{";
    if (!metadata.empty()) {
        header += "\"__metadata__\":{";
        bool first = true;
        for (const auto& [key, value] : metadata) {
            if (!first) header += ',';
            first = false;
            header += json_string(key, file, "metadata key");
            header += ':';
            header += json_string(value, file, "metadata value of " + quote(key) + ":");
        }
        header += '}';
    }
    std::uint64_t offset = 0;
    for (std::size_t i : order) {
        const TensorData& t = tensors[i];
        if (header.size() > 1) header += ',';
        header += json_string(t.name, file, "tensor name");
        header += ":{\"dtype\":\"";
        header += to_string(t.dtype);
        header += "\",\"shape\":[";
        for (std::size_t d = 0; d < t.shape.size(); ++d) {
            if (d != 0) header += ',';
            header += std::to_string(t.shape[d]);
        }
        header += "],\"data_offsets\":[" + std::to_string(offset) + ",";
        offset += t.bytes.size();
        header += std::to_string(offset) + "]}";
    }
    header += '}';
    header.append((8 - header.size() % 8) % 8, ' ');
    return {std::move(header), std::move(order)};
}

std::array<std::uint8_t, 8> length_prefix(std::uint64_t n) {
    std::array<std::uint8_t, 8> out{};
    for (std::size_t i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(n >> (8 * i));
    return out;
}

// Writes all of [data, data + size) to fd.
bool write_all(int fd, const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    while (size > 0) {
        const ssize_t written = ::write(fd, p, std::min<std::size_t>(size, std::size_t{1} << 30));
        if (written < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        p += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

template <typename T>
void append_le(std::vector<std::uint8_t>& out, T value) {
    std::uint8_t raw[sizeof(T)];
    std::memcpy(raw, &value, sizeof(T));
    if constexpr (std::endian::native != std::endian::little) std::reverse(raw, raw + sizeof(T));
    out.insert(out.end(), raw, raw + sizeof(T));
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------------
// TensorData helpers
// ---------------------------------------------------------------------------------------------------------------------

TensorData TensorData::from_floats(std::string name, std::vector<std::int64_t> shape, const std::vector<float>& values,
                                   Dtype dtype) {
    const std::int64_t numel = shape_numel(shape);
    if (numel < 0 || static_cast<std::uint64_t>(numel) != values.size()) {
        throw std::invalid_argument("TensorData::from_floats: tensor \"" + name + "\": " +
                                    std::to_string(values.size()) + " values for shape " + format_shape(shape));
    }
    TensorData out;
    out.dtype = dtype;
    out.bytes.reserve(values.size() * dtype_size(dtype));
    switch (dtype) {
        case Dtype::F32:
            for (float v : values) append_le(out.bytes, v);
            break;
        case Dtype::F64:
            for (float v : values) append_le(out.bytes, static_cast<double>(v));
            break;
        case Dtype::F16:
            for (float v : values) append_le(out.bytes, float_to_f16(v));
            break;
        case Dtype::BF16:
            for (float v : values) append_le(out.bytes, float_to_bf16(v));
            break;
        default:
            throw std::invalid_argument(std::string("TensorData::from_floats: tensor \"") + name + "\": dtype " +
                                        to_string(dtype) + " is not F32, F64, F16 or BF16");
    }
    out.name = std::move(name);
    out.shape = std::move(shape);
    return out;
}

TensorData TensorData::from_view(const TensorView& view) {
    return TensorData{view.name, view.dtype, view.shape, {view.bytes.begin(), view.bytes.end()}};
}

// ---------------------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------------------

std::vector<std::uint8_t> serialize_safetensors(const std::vector<TensorData>& tensors,
                                                const std::map<std::string, std::string>& metadata,
                                                const std::string& name_for_errors) {
    const auto [header, order] = build_header(tensors, metadata, name_for_errors);
    std::vector<std::uint8_t> out;
    std::size_t total = 8 + header.size();
    for (const TensorData& t : tensors) total += t.bytes.size();
    out.reserve(total);
    const auto prefix = length_prefix(header.size());
    out.insert(out.end(), prefix.begin(), prefix.end());
    out.insert(out.end(), header.begin(), header.end());
    for (std::size_t i : order) out.insert(out.end(), tensors[i].bytes.begin(), tensors[i].bytes.end());
    return out;
}

void write_safetensors(const std::string& path, const std::vector<TensorData>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    const auto [header, order] = build_header(tensors, metadata, path);  // validates before touching the disk
    const std::string temporary = path + ".tmp";

    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail(path, "cannot create " + temporary + ": " + std::strerror(errno));
    auto abandon = [&](const std::string& what) {
        const int error = errno;
        ::close(fd);
        ::unlink(temporary.c_str());
        fail(path, what + ": " + std::strerror(error));
    };

    const auto prefix = length_prefix(header.size());
    if (!write_all(fd, prefix.data(), prefix.size()) || !write_all(fd, header.data(), header.size())) {
        abandon("cannot write " + temporary);
    }
    for (std::size_t i : order) {
        if (!write_all(fd, tensors[i].bytes.data(), tensors[i].bytes.size())) abandon("cannot write " + temporary);
    }
    if (::fsync(fd) != 0) abandon("cannot flush " + temporary);
    if (::close(fd) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        fail(path, "cannot close " + temporary + ": " + std::strerror(error));
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const int error = errno;
        ::unlink(temporary.c_str());
        fail(path, "cannot rename " + temporary + " to it: " + std::strerror(error));
    }

    // Make the rename itself durable (best effort: some file systems refuse to fsync a directory).
    const auto slash = path.find_last_of('/');
    const std::string directory = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
    const int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
}

}  // namespace lorica
