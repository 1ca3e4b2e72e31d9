// safetensors: element types, scalar conversions, float conversion of whole tensors, and the human summary.
// The reader is in safetensors_read.cpp, the writer in safetensors_write.cpp.

#include "engine/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

namespace lorica {

namespace {

// Reads a little-endian value of type T from p (any alignment).
template <typename T>
T load_le(const std::uint8_t* p) {
    T value;
    if constexpr (std::endian::native == std::endian::little) {
        std::memcpy(&value, p, sizeof(T));
    } else {
        std::uint8_t reversed[sizeof(T)];
        for (std::size_t i = 0; i < sizeof(T); ++i) reversed[i] = p[sizeof(T) - 1 - i];
        std::memcpy(&value, reversed, sizeof(T));
    }
    return value;
}

template <typename T, typename Convert>
void convert_all(const TensorView& view, std::vector<float>& out, Convert convert) {
    const std::size_t n = view.bytes.size() / sizeof(T);
    out.resize(n);
    const std::uint8_t* p = view.bytes.data();
    for (std::size_t i = 0; i < n; ++i) out[i] = convert(load_le<T>(p + i * sizeof(T)));
}

// "12,345,678"
std::string with_thousands(std::uint64_t value) {
    std::string digits = std::to_string(value);
    std::string out;
    for (std::size_t i = 0; i < digits.size(); ++i) {
        if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

// "1 parameter", "3 parameters"
std::string count(std::uint64_t n, const char* noun) { return with_thousands(n) + " " + noun + (n == 1 ? "" : "s"); }

}  // namespace

// ---------------------------------------------------------------------------------------------------------------------
// Element types
// ---------------------------------------------------------------------------------------------------------------------

const char* to_string(Dtype dtype) {
    switch (dtype) {
        case Dtype::F64:
            return "F64";
        case Dtype::F32:
            return "F32";
        case Dtype::F16:
            return "F16";
        case Dtype::BF16:
            return "BF16";
        case Dtype::I64:
            return "I64";
        case Dtype::I32:
            return "I32";
        case Dtype::I16:
            return "I16";
        case Dtype::I8:
            return "I8";
        case Dtype::U8:
            return "U8";
        case Dtype::BOOL:
            return "BOOL";
        case Dtype::U16:
            return "U16";
        case Dtype::U32:
            return "U32";
        case Dtype::U64:
            return "U64";
        case Dtype::F8_E4M3:
            return "F8_E4M3";
        case Dtype::F8_E5M2:
            return "F8_E5M2";
    }
    return "?";
}

std::optional<Dtype> parse_dtype(std::string_view name) {
    for (Dtype dtype : kAllDtypes) {
        if (name == to_string(dtype)) return dtype;
    }
    return std::nullopt;
}

std::size_t dtype_size(Dtype dtype) {
    switch (dtype) {
        case Dtype::F64:
        case Dtype::I64:
        case Dtype::U64:
            return 8;
        case Dtype::F32:
        case Dtype::I32:
        case Dtype::U32:
            return 4;
        case Dtype::F16:
        case Dtype::BF16:
        case Dtype::I16:
        case Dtype::U16:
            return 2;
        case Dtype::I8:
        case Dtype::U8:
        case Dtype::BOOL:
        case Dtype::F8_E4M3:
        case Dtype::F8_E5M2:
            return 1;
    }
    return 1;
}

// ---------------------------------------------------------------------------------------------------------------------
// Scalar conversions
// ---------------------------------------------------------------------------------------------------------------------

float f16_to_float(std::uint16_t bits) {
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1Fu;
    const std::uint32_t mantissa = bits & 0x3FFu;
    if (exponent == 0x1F) {  // infinity or NaN (payload kept)
        return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
    }
    if (exponent == 0) {  // zero or subnormal: mantissa x 2^-24, exact in float
        const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
        return sign ? -magnitude : magnitude;
    }
    return std::bit_cast<float>(sign | ((exponent + 112u) << 23) | (mantissa << 13));  // rebias 15 -> 127
}

std::uint16_t float_to_f16(float value) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    const std::uint16_t sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
    const std::uint32_t abs_bits = bits & 0x7FFFFFFFu;
    if (abs_bits >= 0x7F800000u) {  // infinity, or NaN made quiet so the payload cannot vanish
        if (abs_bits == 0x7F800000u) return sign | 0x7C00u;
        return static_cast<std::uint16_t>(sign | 0x7E00u | ((abs_bits >> 13) & 0x3FFu));
    }
    if (abs_bits >= 0x477FF000u) return sign | 0x7C00u;  // >= 65520 rounds to infinity
    if (abs_bits < 0x38800000u) {                        // below 2^-14: subnormal half (or zero)
        if (abs_bits < 0x33000000u) return sign;         // <= 2^-25 rounds to zero (2^-25 is a tie to even 0)
        // value = 1.m x 2^e with e in [-25, -15]; half subnormal unit is 2^-24.
        const std::uint32_t exponent = abs_bits >> 23;
        const std::uint32_t mantissa = (abs_bits & 0x7FFFFFu) | 0x800000u;
        const std::uint32_t shift = 126u - exponent;  // so that mantissa >> shift is in units of 2^-24
        std::uint32_t result = mantissa >> shift;
        const std::uint32_t remainder = mantissa & ((1u << shift) - 1u);
        const std::uint32_t half = 1u << (shift - 1u);
        if (remainder > half || (remainder == half && (result & 1u))) ++result;
        return static_cast<std::uint16_t>(sign | result);
    }
    // Normal half: rebias the exponent, round the 13 dropped mantissa bits to nearest even. A carry out of the
    // mantissa correctly bumps the exponent (and 65504 < x < 65520 stays finite: checked above).
    std::uint32_t result = abs_bits - 0x38000000u;  // exponent 127 -> 15
    const std::uint32_t remainder = result & 0x1FFFu;
    result >>= 13;
    if (remainder > 0x1000u || (remainder == 0x1000u && (result & 1u))) ++result;
    return static_cast<std::uint16_t>(sign | result);
}

float bf16_to_float(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

std::uint16_t float_to_bf16(float value) {
    const std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {  // NaN: keep sign and top payload, force quiet
        return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);
    }
    const std::uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);  // round to nearest, ties to even
    return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

float f8_e4m3_to_float(std::uint8_t bits) {
    const bool negative = (bits & 0x80u) != 0;
    const int exponent = (bits >> 3) & 0xF;
    const int mantissa = bits & 0x7;
    float magnitude;
    if (exponent == 0xF && mantissa == 0x7) {
        magnitude = std::numeric_limits<float>::quiet_NaN();
    } else if (exponent == 0) {
        magnitude = std::ldexp(static_cast<float>(mantissa), -9);  // subnormal: m/8 x 2^(1-7)
    } else {
        magnitude = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
    }
    return negative ? -magnitude : magnitude;
}

float f8_e5m2_to_float(std::uint8_t bits) {
    return f16_to_float(static_cast<std::uint16_t>(bits << 8));  // E5M2 is the top byte of an IEEE half
}

std::string format_shape(const std::vector<std::int64_t>& shape) {
    std::string out = "[";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i != 0) out += ", ";
        out += std::to_string(shape[i]);
    }
    return out + "]";
}

std::int64_t shape_numel(const std::vector<std::int64_t>& shape) {
    if (std::find(shape.begin(), shape.end(), 0) != shape.end()) return 0;
    std::int64_t n = 1;
    for (std::int64_t d : shape) {
        if (d < 0 || __builtin_mul_overflow(n, d, &n)) return -1;
    }
    return n;
}

// ---------------------------------------------------------------------------------------------------------------------
// Whole tensors
// ---------------------------------------------------------------------------------------------------------------------

std::vector<float> to_float(const TensorView& view) {
    std::vector<float> out;
    const auto cast = [](auto v) { return static_cast<float>(v); };
    switch (view.dtype) {
        case Dtype::F32:
            convert_all<float>(view, out, cast);
            break;
        case Dtype::F64:
            convert_all<double>(view, out, cast);
            break;
        case Dtype::F16:
            convert_all<std::uint16_t>(view, out, f16_to_float);
            break;
        case Dtype::BF16:
            convert_all<std::uint16_t>(view, out, bf16_to_float);
            break;
        case Dtype::I64:
            convert_all<std::int64_t>(view, out, cast);
            break;
        case Dtype::I32:
            convert_all<std::int32_t>(view, out, cast);
            break;
        case Dtype::I16:
            convert_all<std::int16_t>(view, out, cast);
            break;
        case Dtype::I8:
            convert_all<std::int8_t>(view, out, cast);
            break;
        case Dtype::U64:
            convert_all<std::uint64_t>(view, out, cast);
            break;
        case Dtype::U32:
            convert_all<std::uint32_t>(view, out, cast);
            break;
        case Dtype::U16:
            convert_all<std::uint16_t>(view, out, cast);
            break;
        case Dtype::U8:
            convert_all<std::uint8_t>(view, out, cast);
            break;
        case Dtype::BOOL:
            convert_all<std::uint8_t>(view, out, [](std::uint8_t v) { return v ? 1.0f : 0.0f; });
            break;
        case Dtype::F8_E4M3:
            convert_all<std::uint8_t>(view, out, f8_e4m3_to_float);
            break;
        case Dtype::F8_E5M2:
            convert_all<std::uint8_t>(view, out, f8_e5m2_to_float);
            break;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------------
// Inspection
// ---------------------------------------------------------------------------------------------------------------------

std::string describe_safetensors(const std::string& path) { return describe_safetensors(SafetensorsFile::open(path)); }

std::string describe_safetensors(const SafetensorsFile& file) {
    const std::string& path = file.path();

    std::size_t name_width = 4;
    std::size_t dtype_width = 5;
    for (const TensorView& t : file.tensors()) {
        name_width = std::max(name_width, t.name.size());
        dtype_width = std::max(dtype_width, std::strlen(to_string(t.dtype)));
    }
    name_width = std::min<std::size_t>(name_width, 80);

    std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> per_dtype;  // dtype -> (parameters, bytes)
    std::uint64_t parameters = 0;
    std::uint64_t bytes = 0;
    std::ostringstream out;
    const std::uint64_t file_bytes = 8 + file.header_size() + file.data_size();
    out << path << ": safetensors, " << count(file.size(), "tensor") << ", " << count(file_bytes, "byte") << " (header "
        << with_thousands(file.header_size()) << ")\n";
    if (file.size() != 0) {
        out << "  " << std::string("name").append(name_width - 4, ' ') << "  "
            << "dtype" << std::string(dtype_width - 5, ' ') << "  shape\n";
    }
    for (const TensorView& t : file.tensors()) {
        const std::string dtype = to_string(t.dtype);
        out << "  " << t.name;
        if (t.name.size() < name_width) out << std::string(name_width - t.name.size(), ' ');
        out << "  " << dtype << std::string(dtype_width - dtype.size(), ' ') << "  " << format_shape(t.shape) << '\n';
        const auto numel = static_cast<std::uint64_t>(t.numel());
        parameters += numel;
        bytes += t.bytes.size();
        per_dtype[dtype].first += numel;
        per_dtype[dtype].second += t.bytes.size();
    }
    out << "total: " << count(parameters, "parameter") << ", " << count(bytes, "byte") << " of data\n";
    if (per_dtype.size() > 1) {
        for (const auto& [dtype, counts] : per_dtype) {
            out << "  " << dtype << ": " << count(counts.first, "parameter") << ", " << count(counts.second, "byte")
                << '\n';
        }
    }
    if (file.metadata().empty()) {
        out << "metadata: none\n";
    } else {
        out << "metadata (" << file.metadata().size() << "):\n";
        for (const auto& [key, value] : file.metadata()) out << "  " << key << " = " << value << '\n';
    }
    return out.str();
}

}  // namespace lorica
