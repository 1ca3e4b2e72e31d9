// Tests for engine/io/safetensors: round trips, conversions, byte-exact parity with Python's `safetensors`, and one
// test per malformed-file rule (each error must name the file and, where there is one, the tensor).

#include "engine/io/safetensors.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <thread>

#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using namespace lorica;

namespace {

std::vector<std::uint8_t> read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A hand-made file: the 8-byte little-endian length (of `header`, unless `length` overrides it), the header text,
// and `data_size` data bytes.
std::vector<std::uint8_t> raw_file(const std::string& header, std::size_t data_size,
                                   std::optional<std::uint64_t> length = std::nullopt) {
    const std::uint64_t n = length.value_or(header.size());
    std::vector<std::uint8_t> out;
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(n >> (8 * i)));
    out.insert(out.end(), header.begin(), header.end());
    for (std::size_t i = 0; i < data_size; ++i) out.push_back(static_cast<std::uint8_t>(i));
    return out;
}

class SafetensorsTest : public ::testing::Test {
protected:
    std::string path(const std::string& file) const { return dir_.file(file); }

    // Opens `file` expecting a SafetensorsError whose message contains the file name and every one of `parts`.
    void expect_error(const std::string& file, std::initializer_list<std::string> parts) {
        SCOPED_TRACE(file);
        try {
            SafetensorsFile::open(path(file));
            ADD_FAILURE() << "no error for " << file;
        } catch (const SafetensorsError& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find(file), std::string::npos) << message;
            for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
        }
    }

    lorica::testing::TempDir dir_{"safetensors"};
};

using SafetensorsRoundTrip = SafetensorsTest;
using SafetensorsMalformed = SafetensorsTest;
using SafetensorsWriter = SafetensorsTest;
using SafetensorsReader = SafetensorsTest;

// Tensor bytes with a recognisable pattern.
TensorData pattern_tensor(const std::string& name, Dtype dtype, std::vector<std::int64_t> shape, int seed) {
    TensorData t{name, dtype, std::move(shape), {}};
    const auto size = static_cast<std::size_t>(shape_numel(t.shape)) * dtype_size(dtype);
    for (std::size_t i = 0; i < size; ++i) t.bytes.push_back(static_cast<std::uint8_t>(i * 37 + seed * 11 + 1));
    return t;
}

const std::string kValidEntry = R"({"dtype":"F32","shape":[2],"data_offsets":[0,8]})";

}  // namespace

// ---------------------------------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------------------------------

TEST_F(SafetensorsRoundTrip, EveryDtypeWithMetadata) {
    std::vector<TensorData> tensors;
    int seed = 0;
    for (Dtype dtype : kAllDtypes) {
        tensors.push_back(pattern_tensor(std::string("t.") + to_string(dtype), dtype, {2, 3}, seed++));
    }
    tensors.push_back(pattern_tensor("scalar", Dtype::F32, {}, seed++));
    tensors.push_back(pattern_tensor("empty", Dtype::F16, {0, 5}, seed++));
    tensors.push_back(pattern_tensor("base_model.model.blocks.0.attn.qkv.lora_A.weight", Dtype::F32, {4, 7}, seed++));
    const std::map<std::string, std::string> metadata = {{"format", "pt"},
                                                         {"lorica.tasks", R"({"boundaries": [0, 100]})"},
                                                         {"unicode", "\xc3\xa4 \xe2\x9c\x93 \"q\"\n"}};

    const std::string file = path("all.safetensors");
    write_safetensors(file, tensors, metadata);
    EXPECT_FALSE(fs::exists(file + ".tmp"));

    const SafetensorsFile st = SafetensorsFile::open(file);
    EXPECT_EQ(st.size(), tensors.size());
    EXPECT_EQ(st.metadata(), metadata);
    EXPECT_EQ(st.header_size() % 8, 0u);
    for (const TensorData& t : tensors) {
        SCOPED_TRACE(t.name);
        ASSERT_TRUE(st.contains(t.name));
        const TensorView& view = st.tensor(t.name);
        EXPECT_EQ(view.name, t.name);
        EXPECT_EQ(view.dtype, t.dtype);
        EXPECT_EQ(view.shape, t.shape);
        EXPECT_EQ(std::vector<std::uint8_t>(view.bytes.begin(), view.bytes.end()), t.bytes);
        EXPECT_EQ(view.numel(), shape_numel(t.shape));
    }
    // Offset order is the Python library's order: widest dtype first (U64, I64, F64, F32...), then by name.
    const std::vector<std::string>& names = st.names();
    ASSERT_EQ(names.size(), tensors.size());
    EXPECT_EQ(names.front(), "t.U64");
    EXPECT_EQ(names.back(), "t.BOOL");
    std::uint64_t offset = 0;
    for (const TensorView& view : st.tensors()) {
        EXPECT_EQ(view.offset, offset);
        offset += view.bytes.size();
    }
    EXPECT_EQ(offset, st.data_size());

    // The same bytes from the in-memory serializer, and the same content through open_from_bytes.
    const std::vector<std::uint8_t> bytes = read_bytes(file);
    EXPECT_EQ(serialize_safetensors(tensors, metadata), bytes);
    const SafetensorsFile from_memory = SafetensorsFile::open_from_bytes(bytes, "memory");
    EXPECT_EQ(from_memory.names(), st.names());
    EXPECT_EQ(from_memory.path(), "memory");
}

TEST_F(SafetensorsRoundTrip, HeaderLayoutMatchesPythonSerialize) {
    // Expected bytes produced by safetensors 0.8.0: save_file({"b": f16 [2], "a": f32 [1], "c": u8 [1]},
    // metadata={"k": "v"}).
    std::vector<TensorData> tensors = {TensorData::from_floats("b", {2}, {0.0f, 1.0f}, Dtype::F16),
                                       TensorData::from_floats("a", {1}, {0.0f}),
                                       pattern_tensor("c", Dtype::U8, {1}, 0)};
    const std::vector<std::uint8_t> bytes = serialize_safetensors(tensors, {{"k", "v"}});
    const std::string header = R"({"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                               R"("b":{"dtype":"F16","shape":[2],"data_offsets":[4,8]},)"
                               R"("c":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}})";
    std::string padded = header + std::string((8 - header.size() % 8) % 8, ' ');
    ASSERT_GE(bytes.size(), 8 + padded.size());
    EXPECT_EQ(bytes[0], padded.size());
    EXPECT_EQ(std::string(bytes.begin() + 8, bytes.begin() + 8 + static_cast<std::ptrdiff_t>(padded.size())), padded);

    // No tensors, no metadata: "{}" padded to 8, as in the Rust library's own test.
    const std::vector<std::uint8_t> empty = serialize_safetensors({});
    EXPECT_EQ(empty, (std::vector<std::uint8_t>{8, 0, 0, 0, 0, 0, 0, 0, '{', '}', ' ', ' ', ' ', ' ', ' ', ' '}));
    EXPECT_EQ(SafetensorsFile::open_from_bytes(empty, "empty").size(), 0u);
}

TEST_F(SafetensorsRoundTrip, FloatHelpersAndToFloat) {
    const std::vector<float> values = {1.0f, -2.0f, 0.5f, 3.140625f, 65504.0f, -0.0f};
    std::vector<TensorData> tensors;
    for (Dtype dtype : {Dtype::F32, Dtype::F64, Dtype::F16, Dtype::BF16}) {
        tensors.push_back(TensorData::from_floats(std::string("x.") + to_string(dtype), {2, 3}, values, dtype));
    }
    write_safetensors(path("floats.safetensors"), tensors);
    const SafetensorsFile st = SafetensorsFile::open(path("floats.safetensors"));
    EXPECT_EQ(st.to_float("x.F32"), values);
    EXPECT_EQ(st.to_float("x.F64"), values);
    EXPECT_EQ(st.to_float("x.F16"), values);
    std::vector<float> bf16 = values;
    bf16[4] = 65536.0f;  // 65504 is not a bfloat16: nearest is 2^16
    EXPECT_EQ(st.to_float("x.BF16"), bf16);
    EXPECT_TRUE(std::signbit(st.to_float("x.F16")[5]));

    EXPECT_THROW(TensorData::from_floats("bad", {2}, {1.0f}), std::invalid_argument);
    EXPECT_THROW(TensorData::from_floats("bad", {1}, {1.0f}, Dtype::I32), std::invalid_argument);

    const TensorData copy = TensorData::from_view(st.tensor("x.BF16"));
    EXPECT_EQ(copy.name, "x.BF16");
    EXPECT_EQ(copy.bytes, tensors[3].bytes);
}

// ---------------------------------------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------------------------------------

TEST(SafetensorsConversion, F16HandChecked) {
    EXPECT_EQ(f16_to_float(0x3C00), 1.0f);
    EXPECT_EQ(f16_to_float(0xC000), -2.0f);
    EXPECT_EQ(f16_to_float(0x3800), 0.5f);
    EXPECT_EQ(f16_to_float(0x3555), 0.333251953125f);
    EXPECT_EQ(f16_to_float(0x7BFF), 65504.0f);
    EXPECT_EQ(f16_to_float(0x0400), std::ldexp(1.0f, -14));  // smallest normal
    EXPECT_EQ(f16_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
    EXPECT_EQ(f16_to_float(0x03FF), std::ldexp(1023.0f, -24));
    EXPECT_EQ(f16_to_float(0x0000), 0.0f);
    EXPECT_TRUE(std::signbit(f16_to_float(0x8000)));
    EXPECT_EQ(f16_to_float(0x7C00), INFINITY);
    EXPECT_EQ(f16_to_float(0xFC00), -INFINITY);
    EXPECT_TRUE(std::isnan(f16_to_float(0x7E00)));

    EXPECT_EQ(float_to_f16(1.0f), 0x3C00);
    EXPECT_EQ(float_to_f16(-2.0f), 0xC000);
    EXPECT_EQ(float_to_f16(0.1f), 0x2E66);
    EXPECT_EQ(float_to_f16(65504.0f), 0x7BFF);
    EXPECT_EQ(float_to_f16(65519.0f), 0x7BFF);  // below the midpoint to 2^16
    EXPECT_EQ(float_to_f16(65520.0f), 0x7C00);  // the midpoint: ties to even = infinity
    EXPECT_EQ(float_to_f16(1e6f), 0x7C00);
    EXPECT_EQ(float_to_f16(-1e6f), 0xFC00);
    EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -25)), 0x0000);         // tie between 0 and 2^-24: even
    EXPECT_EQ(float_to_f16(std::ldexp(3.0f, -26)), 0x0001);         // 0.75 x 2^-24 rounds up
    EXPECT_EQ(float_to_f16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 x 2^-24: tie, to even 2
    EXPECT_EQ(float_to_f16(std::ldexp(1023.5f, -24)), 0x0400);      // tie at the top of the subnormals: to even normal
    EXPECT_EQ(float_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie: to even 1.0
    EXPECT_EQ(float_to_f16(1.0f + std::ldexp(3.0f, -11)), 0x3C02);  // tie: to even
    EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -30)), 0x0000);
    EXPECT_EQ(float_to_f16(-0.0f), 0x8000);
    EXPECT_EQ(float_to_f16(INFINITY), 0x7C00);
    EXPECT_EQ(float_to_f16(NAN) & 0x7C00, 0x7C00);
    EXPECT_NE(float_to_f16(NAN) & 0x03FF, 0);
}

TEST(SafetensorsConversion, BF16HandChecked) {
    EXPECT_EQ(bf16_to_float(0x3F80), 1.0f);
    EXPECT_EQ(bf16_to_float(0xC000), -2.0f);
    EXPECT_EQ(bf16_to_float(0x4049), 3.140625f);
    EXPECT_EQ(bf16_to_float(0x7F80), INFINITY);
    EXPECT_TRUE(std::isnan(bf16_to_float(0x7FC0)));

    EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(float_to_bf16(-2.0f), 0xC000);
    EXPECT_EQ(float_to_bf16(3.14159265f), 0x4049);
    EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x3F808000u)), 0x3F80);  // tie: to even
    EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x3F818000u)), 0x3F82);  // tie: to even
    EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x3F808001u)), 0x3F81);
    EXPECT_EQ(float_to_bf16(std::bit_cast<float>(0x7F7FFFFFu)), 0x7F80);         // FLT_MAX rounds to infinity
    const std::uint16_t nan = float_to_bf16(std::bit_cast<float>(0x7F800001u));  // NaN with a low payload only
    EXPECT_TRUE(std::isnan(bf16_to_float(nan)));
}

TEST(SafetensorsConversion, F8HandChecked) {
    EXPECT_EQ(f8_e4m3_to_float(0x38), 1.0f);
    EXPECT_EQ(f8_e4m3_to_float(0xC0), -2.0f);
    EXPECT_EQ(f8_e4m3_to_float(0x7E), 448.0f);
    EXPECT_EQ(f8_e4m3_to_float(0x01), std::ldexp(1.0f, -9));
    EXPECT_TRUE(std::isnan(f8_e4m3_to_float(0x7F)));
    EXPECT_TRUE(std::isnan(f8_e4m3_to_float(0xFF)));
    EXPECT_EQ(f8_e5m2_to_float(0x3C), 1.0f);
    EXPECT_EQ(f8_e5m2_to_float(0xC0), -2.0f);
    EXPECT_EQ(f8_e5m2_to_float(0x7B), 57344.0f);
    EXPECT_EQ(f8_e5m2_to_float(0x7C), INFINITY);
    EXPECT_TRUE(std::isnan(f8_e5m2_to_float(0x7E)));
}

#if defined(__FLT16_MAX__)
// The compiler's _Float16 is an independent reference: every half value, and a sweep of floats for the narrowing.
TEST(SafetensorsConversion, F16MatchesCompilerFloat16) {
    for (std::uint32_t bits = 0; bits <= 0xFFFF; ++bits) {
        const auto h = static_cast<std::uint16_t>(bits);
        const float expected = static_cast<float>(std::bit_cast<_Float16>(h));
        const float got = f16_to_float(h);
        if (std::isnan(expected)) {
            EXPECT_TRUE(std::isnan(got)) << bits;
        } else {
            ASSERT_EQ(std::bit_cast<std::uint32_t>(got), std::bit_cast<std::uint32_t>(expected)) << bits;
        }
    }
    for (std::uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 4093) {
        const float value = std::bit_cast<float>(static_cast<std::uint32_t>(bits));
        if (std::isnan(value)) continue;
        const auto expected = std::bit_cast<std::uint16_t>(static_cast<_Float16>(value));
        ASSERT_EQ(float_to_f16(value), expected) << std::hex << bits;
    }
    // Every half midpoint (the rounding ties) and its neighbours.
    for (std::uint32_t h = 0; h < 0x7BFF; ++h) {
        const float low = f16_to_float(static_cast<std::uint16_t>(h));
        const float high = f16_to_float(static_cast<std::uint16_t>(h + 1));
        const float mid = low + (high - low) / 2;
        for (float value : {mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY), -mid}) {
            const auto expected = std::bit_cast<std::uint16_t>(static_cast<_Float16>(value));
            ASSERT_EQ(float_to_f16(value), expected) << h;
        }
    }
}
#endif

// ---------------------------------------------------------------------------------------------------------------------
// The reference file written by Python's safetensors (tests/interop/make_safetensors_reference.py)
// ---------------------------------------------------------------------------------------------------------------------

TEST(SafetensorsReference, ReadsPythonFileAndWritesItBackByteForByte) {
    const std::string file = std::string(LORICA_TEST_DATA_DIR) + "/safetensors/reference.safetensors";
    const SafetensorsFile st = SafetensorsFile::open(file);
    EXPECT_EQ(st.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
    EXPECT_EQ(st.size(), 17u);

    const TensorView& a = st.tensor("base_model.model.blocks.0.attn.qkv.lora_A.weight");
    EXPECT_EQ(a.dtype, Dtype::F32);
    EXPECT_EQ(a.shape, (std::vector<std::int64_t>{2, 3}));
    EXPECT_EQ(to_float(a), (std::vector<float>{0.5f, -1.25f, 2.0f, 3.0f, -0.125f, 1e-3f}));
    const TensorView& b = st.tensor("base_model.model.blocks.0.attn.qkv.lora_B.weight");
    EXPECT_EQ(b.dtype, Dtype::F16);
    EXPECT_EQ(b.shape, (std::vector<std::int64_t>{4, 1}));
    EXPECT_EQ(to_float(b), (std::vector<float>{1.0f, -2.0f, 0.333251953125f, 65504.0f}));
    EXPECT_EQ(st.to_float("bf16"), (std::vector<float>{1.0f, -2.0f, 3.140625f}));
    EXPECT_EQ(st.to_float("f8_e4m3"), (std::vector<float>{1.0f, -2.0f, 448.0f}));
    EXPECT_EQ(st.to_float("f8_e5m2"), (std::vector<float>{1.0f, -2.0f, 57344.0f}));
    EXPECT_EQ(st.to_float("f64"), (std::vector<float>{static_cast<float>(1.0 / 3.0), -2.5f}));
    EXPECT_EQ(st.to_float("i64"), (std::vector<float>{-1099511627776.0f, 7.0f}));
    EXPECT_EQ(st.to_float("i32"), (std::vector<float>{-2147483648.0f, 2147483647.0f}));
    EXPECT_EQ(st.to_float("i16"), (std::vector<float>{-32768.0f, 32767.0f}));
    EXPECT_EQ(st.to_float("i8"), (std::vector<float>{-128.0f, 127.0f}));
    EXPECT_EQ(st.to_float("u8"), (std::vector<float>{0.0f, 200.0f, 255.0f}));
    EXPECT_EQ(st.to_float("u16"), (std::vector<float>{65535.0f}));
    EXPECT_EQ(st.to_float("u32"), (std::vector<float>{4000000000.0f}));
    EXPECT_EQ(st.to_float("u64"), (std::vector<float>{1099511627777.0f}));
    EXPECT_EQ(st.to_float("bool"), (std::vector<float>{1.0f, 0.0f, 1.0f}));
    EXPECT_EQ(st.tensor("scalar").shape, std::vector<std::int64_t>{});
    EXPECT_EQ(st.to_float("scalar"), (std::vector<float>{4.5f}));
    EXPECT_EQ(st.tensor("empty").shape, (std::vector<std::int64_t>{0, 3}));
    EXPECT_TRUE(st.to_float("empty").empty());
    EXPECT_EQ(st.tensor("f8_e5m2").dtype, Dtype::F8_E5M2);

    std::vector<TensorData> tensors;
    for (const TensorView& view : st.tensors()) tensors.push_back(TensorData::from_view(view));
    std::reverse(tensors.begin(), tensors.end());  // the writer's order must not depend on the input order
    EXPECT_EQ(serialize_safetensors(tensors, st.metadata()), read_bytes(file));
}

// ---------------------------------------------------------------------------------------------------------------------
// Reader behaviour
// ---------------------------------------------------------------------------------------------------------------------

TEST_F(SafetensorsReader, MissingTensorNamesItAndListsClosest) {
    write_safetensors(path("m.safetensors"), {TensorData::from_floats("blocks.0.attn.qkv.lora_A.weight", {1}, {1.0f}),
                                              TensorData::from_floats("blocks.0.attn.qkv.lora_B.weight", {1}, {1.0f}),
                                              TensorData::from_floats("head.weight", {1}, {1.0f})});
    const SafetensorsFile st = SafetensorsFile::open(path("m.safetensors"));
    try {
        st.tensor("blocks.0.attn.qkv.lora_C.weight");
        FAIL() << "no error";
    } catch (const SafetensorsError& e) {
        const std::string message = e.what();
        EXPECT_NE(message.find("m.safetensors"), std::string::npos) << message;
        EXPECT_NE(message.find("\"blocks.0.attn.qkv.lora_C.weight\""), std::string::npos) << message;
        EXPECT_NE(message.find("blocks.0.attn.qkv.lora_A.weight"), std::string::npos) << message;
        EXPECT_NE(message.find("3 tensors"), std::string::npos) << message;
    }
    EXPECT_THROW(st.to_float("nope"), SafetensorsError);
}

TEST_F(SafetensorsReader, CopiesShareTheMappingSafely) {
    write_safetensors(path("c.safetensors"), {TensorData::from_floats("w", {3}, {1.0f, 2.0f, 3.0f})});
    std::optional<SafetensorsFile> original = SafetensorsFile::open(path("c.safetensors"));
    const SafetensorsFile copy = *original;
    original.reset();
    fs::remove(path("c.safetensors"));  // the mapping outlives the directory entry
    EXPECT_EQ(copy.to_float("w"), (std::vector<float>{1.0f, 2.0f, 3.0f}));
}

TEST_F(SafetensorsReader, ReadsFromAPipeWhenMappingIsImpossible) {
    const std::vector<std::uint8_t> bytes =
        serialize_safetensors({TensorData::from_floats("w", {2}, {1.5f, -4.0f})}, {{"k", "v"}});
    const std::string fifo = path("pipe.safetensors");
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    std::thread writer([&] { write_bytes(fifo, bytes); });  // small enough for the pipe buffer: never blocks
    std::optional<SafetensorsFile> st;
    try {
        st = SafetensorsFile::open(fifo);
    } catch (...) {
        writer.join();
        throw;
    }
    writer.join();
    EXPECT_EQ(st->to_float("w"), (std::vector<float>{1.5f, -4.0f}));
    EXPECT_EQ(st->metadata().at("k"), "v");
}

TEST_F(SafetensorsReader, MissingFileAndDirectory) {
    expect_error("does-not-exist.safetensors", {"cannot open"});
    fs::create_directories(dir_.path / "folder.safetensors");
    expect_error("folder.safetensors", {"directory"});
}

TEST_F(SafetensorsReader, AcceptsPaddingAndNullMetadata) {
    write_bytes(dir_.path / "pad.safetensors", raw_file(R"({"__metadata__":null,"w":)" + kValidEntry + "}   \n\t ", 8));
    const SafetensorsFile st = SafetensorsFile::open(path("pad.safetensors"));
    EXPECT_EQ(st.names(), std::vector<std::string>{"w"});
    EXPECT_TRUE(st.metadata().empty());
}

TEST_F(SafetensorsReader, DescribeListsTensorsTotalsAndMetadata) {
    write_safetensors(path("d.safetensors"),
                      {pattern_tensor("blocks.0.attn.qkv.lora_A.weight", Dtype::F32, {8, 768}, 0),
                       pattern_tensor("blocks.0.attn.qkv.lora_B.weight", Dtype::BF16, {2304, 8}, 1)},
                      {{"format", "pt"}, {"lorica.method", "sd-lora"}});
    const std::string text = describe_safetensors(path("d.safetensors"));
    for (const char* part : {"d.safetensors", "2 tensors", "blocks.0.attn.qkv.lora_A.weight", "F32", "[8, 768]",
                             "blocks.0.attn.qkv.lora_B.weight", "BF16", "[2304, 8]", "24,576 parameters",
                             "61,440 bytes", "format = pt", "lorica.method = sd-lora"}) {
        EXPECT_NE(text.find(part), std::string::npos) << part << "\n" << text;
    }
    EXPECT_THROW(describe_safetensors(path("none.safetensors")), SafetensorsError);
}

// ---------------------------------------------------------------------------------------------------------------------
// Malformed files: every error names the file and, where there is one, the tensor
// ---------------------------------------------------------------------------------------------------------------------

TEST_F(SafetensorsMalformed, LengthField) {
    write_bytes(dir_.path / "short.safetensors", {1, 2, 3, 4, 5});
    expect_error("short.safetensors", {"shorter than the 8-byte"});
    write_bytes(dir_.path / "empty-file.safetensors", {});
    expect_error("empty-file.safetensors", {"shorter than the 8-byte"});
    write_bytes(dir_.path / "zero.safetensors", raw_file("{}", 0, 0));
    expect_error("zero.safetensors", {"header length is 0"});
    write_bytes(dir_.path / "past-end.safetensors", raw_file("{}", 0, 1000));
    expect_error("past-end.safetensors", {"header length 1000", "larger than the rest of the file"});
    write_bytes(dir_.path / "huge.safetensors", raw_file("{}", 0, 200'000'000));
    expect_error("huge.safetensors", {"header length 200000000", "limit"});
    write_bytes(dir_.path / "max.safetensors", raw_file("{}", 0, ~std::uint64_t{0}));
    expect_error("max.safetensors", {"limit"});
}

TEST_F(SafetensorsMalformed, HeaderJson) {
    write_bytes(dir_.path / "json.safetensors", raw_file(R"({"w": {"dtype": "F32",)", 0));
    expect_error("json.safetensors", {"invalid JSON header", "parser stopped at byte", "column"});
    write_bytes(dir_.path / "utf8.safetensors", raw_file("{\"w\xff\":" + kValidEntry + "}", 8));
    expect_error("utf8.safetensors", {"invalid JSON header", "UTF-8", "\\xff"});
    // A number beyond double: nlohmann throws out_of_range, not parse_error (found by the fuzzer).
    write_bytes(dir_.path / "number-overflow.safetensors",
                raw_file(R"({"w":{"dtype":"F32","shape":[1E400],"data_offsets":[0,8]}})", 8));
    expect_error("number-overflow.safetensors", {"invalid JSON header", "1E400"});
    write_bytes(dir_.path / "garbage-after.safetensors", raw_file("{} x", 0));
    expect_error("garbage-after.safetensors", {"invalid JSON header"});
    write_bytes(dir_.path / "array.safetensors", raw_file("[1, 2]", 0));
    expect_error("array.safetensors", {"expected a JSON object"});
    write_bytes(dir_.path / "string.safetensors", raw_file("\"w\"", 0));
    expect_error("string.safetensors", {"expected a JSON object"});
}

TEST_F(SafetensorsMalformed, DuplicateKeys) {
    write_bytes(dir_.path / "dup.safetensors", raw_file(R"({"w":)" + kValidEntry + R"(,"w":)" + kValidEntry + "}", 8));
    expect_error("dup.safetensors", {"\"w\"", "duplicate tensor name"});
    write_bytes(dir_.path / "dup-field.safetensors",
                raw_file(R"({"w":{"dtype":"F32","dtype":"F64","shape":[2],"data_offsets":[0,8]}})", 8));
    expect_error("dup-field.safetensors", {"\"w\"", "duplicate field \"dtype\""});
    write_bytes(dir_.path / "dup-meta.safetensors",
                raw_file(R"({"__metadata__":{"k":"a","k":"b"},"w":)" + kValidEntry + "}", 8));
    expect_error("dup-meta.safetensors", {"duplicate \"__metadata__\" key \"k\""});
}

TEST_F(SafetensorsMalformed, TensorEntries) {
    struct Case {
        std::string file;
        std::string entry;  // the value of tensor "w"; the data section has 8 bytes
        std::vector<std::string> parts;
    };
    const std::vector<Case> cases = {
        {"not-object", R"([0, 8])", {"entry is a list", "expected an object"}},
        {"missing-dtype", R"({"shape":[2],"data_offsets":[0,8]})", {"missing field \"dtype\""}},
        {"missing-offsets", R"({"dtype":"F32","shape":[2]})", {"missing field \"data_offsets\""}},
        {"unknown-field", R"({"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1})", {"unknown field \"extra\""}},
        {"unknown-dtype", R"({"dtype":"F17","shape":[2],"data_offsets":[0,8]})", {"unknown dtype \"F17\""}},
        {"lowercase-dtype", R"({"dtype":"f32","shape":[2],"data_offsets":[0,8]})", {"unknown dtype \"f32\""}},
        {"dtype-number", R"({"dtype":4,"shape":[2],"data_offsets":[0,8]})", {"dtype is 4"}},
        {"shape-int", R"({"dtype":"F32","shape":2,"data_offsets":[0,8]})", {"shape is 2", "non-negative integers"}},
        {"shape-negative", R"({"dtype":"F32","shape":[-2],"data_offsets":[0,8]})", {"shape[0] is -2"}},
        {"shape-float", R"({"dtype":"F32","shape":[2.0],"data_offsets":[0,8]})", {"shape[0] is 2.0"}},
        {"shape-string", R"({"dtype":"F32","shape":["2"],"data_offsets":[0,8]})", {"shape[0] is the string \"2\""}},
        {"shape-nested", R"({"dtype":"F32","shape":[[2]],"data_offsets":[0,8]})", {"shape[0] is a list"}},
        {"shape-huge", R"({"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8]})", {"shape[0]"}},
        {"shape-overflow", R"({"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]})", {"too large"}},
        {"offsets-one", R"({"dtype":"F32","shape":[2],"data_offsets":[8]})", {"data_offsets is a list of 1"}},
        {"offsets-three", R"({"dtype":"F32","shape":[2],"data_offsets":[0,4,8]})", {"data_offsets is a list of 3"}},
        {"offsets-object", R"({"dtype":"F32","shape":[2],"data_offsets":{"a":0}})", {"data_offsets is an object"}},
        {"offsets-reversed", R"({"dtype":"F32","shape":[2],"data_offsets":[8,0]})", {"begin > end"}},
        {"offsets-negative", R"({"dtype":"F32","shape":[2],"data_offsets":[-8,0]})", {"non-negative integers"}},
        {"offsets-float", R"({"dtype":"F32","shape":[2],"data_offsets":[0,8.0]})", {"non-negative integers"}},
        {"size-mismatch", R"({"dtype":"F32","shape":[3],"data_offsets":[0,8]})", {"hold 8 bytes", "needs 12"}},
        {"size-dtype", R"({"dtype":"F64","shape":[2],"data_offsets":[0,8]})", {"F64 [2] needs 16"}},
    };
    for (const Case& c : cases) {
        const std::string file = c.file + ".safetensors";
        write_bytes(dir_.path / file, raw_file(R"({"w":)" + c.entry + "}", 8));
        std::vector<std::string> parts = c.parts;
        parts.push_back("tensor \"w\"");
        SCOPED_TRACE(c.file);
        try {
            SafetensorsFile::open(path(file));
            ADD_FAILURE() << "no error";
        } catch (const SafetensorsError& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find(file), std::string::npos) << message;
            for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
        }
    }
}

TEST_F(SafetensorsMalformed, Metadata) {
    write_bytes(dir_.path / "meta-int.safetensors", raw_file(R"({"__metadata__":{"k":1},"w":)" + kValidEntry + "}", 8));
    expect_error("meta-int.safetensors", {"\"k\"", "expected a string"});
    write_bytes(dir_.path / "meta-nested.safetensors",
                raw_file(R"({"__metadata__":{"k":{"x":"y"}},"w":)" + kValidEntry + "}", 8));
    expect_error("meta-nested.safetensors", {"\"k\"", "expected a string"});
    write_bytes(dir_.path / "meta-string.safetensors", raw_file(R"({"__metadata__":"pt","w":)" + kValidEntry + "}", 8));
    expect_error("meta-string.safetensors", {"__metadata__", "expected an object"});
}

TEST_F(SafetensorsMalformed, PackingGapsAndOverlaps) {
    const std::string f32_1 = R"({"dtype":"F32","shape":[1],"data_offsets":)";
    const std::string f32_2 = R"({"dtype":"F32","shape":[2],"data_offsets":)";
    write_bytes(dir_.path / "gap.safetensors",
                raw_file(R"({"a":)" + f32_1 + R"([0,4]},"b":)" + f32_1 + R"([8,12]}})", 12));
    expect_error("gap.safetensors", {"gap of 4 bytes", "tensor \"a\"", "tensor \"b\""});
    write_bytes(dir_.path / "overlap.safetensors",
                raw_file(R"({"a":)" + f32_2 + R"([0,8]},"b":)" + f32_2 + R"([4,12]}})", 12));
    expect_error("overlap.safetensors", {"tensor \"b\" [4, 12) overlaps tensor \"a\" [0, 8)"});
    write_bytes(dir_.path / "same.safetensors",
                raw_file(R"({"a":)" + f32_2 + R"([0,8]},"b":)" + f32_2 + R"([0,8]}})", 8));
    expect_error("same.safetensors", {"overlaps", "\"a\"", "\"b\""});
    write_bytes(dir_.path / "empty-inside.safetensors",  // a zero-size tensor placed inside another one
                raw_file(R"({"a":)" + f32_2 + R"([0,8]},"z":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}})", 8));
    expect_error("empty-inside.safetensors", {"tensor \"z\" [4, 4) overlaps tensor \"a\""});
    write_bytes(dir_.path / "start-gap.safetensors", raw_file(R"({"w":)" + f32_1 + R"([4,8]}})", 8));
    expect_error("start-gap.safetensors", {"tensor \"w\"", "gap of 4 bytes at the start"});
}

TEST_F(SafetensorsMalformed, TrailingBytesAndTruncation) {
    write_bytes(dir_.path / "trailing-raw.safetensors", raw_file(R"({"w":)" + kValidEntry + "}", 9));
    expect_error("trailing-raw.safetensors", {"1 trailing byte after the last tensor \"w\""});
    write_bytes(dir_.path / "no-tensors.safetensors", raw_file("{}", 3));
    expect_error("no-tensors.safetensors", {"3 trailing bytes", "declares no tensors"});

    // A valid file from the writer, then cut by one byte and extended by one byte.
    const std::vector<TensorData> tensors = {TensorData::from_floats("first", {2}, {1.0f, 2.0f}),
                                             TensorData::from_floats("last", {2}, {3.0f, 4.0f}, Dtype::F16)};
    write_safetensors(path("valid.safetensors"), tensors);
    std::vector<std::uint8_t> bytes = read_bytes(dir_.path / "valid.safetensors");
    ASSERT_NO_THROW(SafetensorsFile::open(path("valid.safetensors")));

    std::vector<std::uint8_t> cut(bytes.begin(), bytes.end() - 1);
    write_bytes(dir_.path / "truncated.safetensors", cut);
    expect_error("truncated.safetensors", {"tensor \"last\"", "past the end of the file", "truncated"});
    cut.erase(cut.end() - 8, cut.end());  // now "first" is cut as well: the first tensor past the end is named
    write_bytes(dir_.path / "truncated-more.safetensors", cut);
    expect_error("truncated-more.safetensors", {"tensor \"first\"", "past the end of the file"});

    std::vector<std::uint8_t> extended = bytes;
    extended.push_back(0);
    write_bytes(dir_.path / "trailing.safetensors", extended);
    expect_error("trailing.safetensors", {"1 trailing byte after", "tensor \"last\""});
}

// ---------------------------------------------------------------------------------------------------------------------
// Writer
// ---------------------------------------------------------------------------------------------------------------------

TEST_F(SafetensorsWriter, RejectsBadInputAndLeavesTheOldFile) {
    const std::string file = path("keep.safetensors");
    write_safetensors(file, {TensorData::from_floats("w", {1}, {1.0f})});
    const std::vector<std::uint8_t> before = read_bytes(file);

    using Metadata = std::map<std::string, std::string>;
    auto expect_write_error = [&](const std::vector<TensorData>& tensors, const Metadata& meta,
                                  std::initializer_list<std::string> parts) {
        try {
            write_safetensors(file, tensors, meta);
            ADD_FAILURE() << "no error";
        } catch (const SafetensorsError& e) {
            const std::string message = e.what();
            EXPECT_NE(message.find("keep.safetensors"), std::string::npos) << message;
            for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << message;
        }
        EXPECT_EQ(read_bytes(file), before);
        EXPECT_FALSE(fs::exists(file + ".tmp"));
    };
    expect_write_error({TensorData::from_floats("w", {1}, {1.0f}), TensorData::from_floats("w", {1}, {2.0f})}, {},
                       {"tensor \"w\"", "duplicate"});
    expect_write_error({TensorData{"short", Dtype::F32, {3}, std::vector<std::uint8_t>(8)}}, {},
                       {"tensor \"short\"", "has 8 bytes", "needs 12"});
    expect_write_error({TensorData{"neg", Dtype::F32, {-1}, {}}}, {}, {"tensor \"neg\"", "negative"});
    expect_write_error({TensorData{"big", Dtype::F64, {1LL << 40, 1LL << 30}, {}}}, {},
                       {"tensor \"big\"", "too large"});
    expect_write_error({TensorData::from_floats("__metadata__", {1}, {1.0f})}, {}, {"reserved"});
    expect_write_error({TensorData::from_floats("bad\xff", {1}, {1.0f})}, {}, {"not valid UTF-8"});
    expect_write_error({}, {{"k", "bad\xc3"}}, {"metadata value", "\"k\"", "not valid UTF-8"});

    EXPECT_THROW(write_safetensors(path("no-such-dir/x.safetensors"), {}), SafetensorsError);
}

TEST_F(SafetensorsWriter, ReplacesAnExistingFileAtomically) {
    const std::string file = path("r.safetensors");
    write_safetensors(file, {TensorData::from_floats("old", {1}, {1.0f})});
    const SafetensorsFile old_file = SafetensorsFile::open(file);  // stays mapped across the replacement
    write_safetensors(file, {TensorData::from_floats("new", {2}, {2.0f, 3.0f})}, {{"k", "v"}});
    EXPECT_FALSE(fs::exists(file + ".tmp"));
    const SafetensorsFile new_file = SafetensorsFile::open(file);
    EXPECT_EQ(new_file.names(), std::vector<std::string>{"new"});
    EXPECT_EQ(old_file.to_float("old"), std::vector<float>{1.0f});
    // Names with characters that JSON escapes survive the round trip.
    write_safetensors(file, {TensorData::from_floats("a\"b\\c\nd\x01", {1}, {5.0f})});
    EXPECT_EQ(SafetensorsFile::open(file).to_float("a\"b\\c\nd\x01"), std::vector<float>{5.0f});
}
