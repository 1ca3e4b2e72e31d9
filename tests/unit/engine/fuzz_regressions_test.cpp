// Regressions found by fuzzing the data and adapter readers (bench/fuzz_*.cpp): each test makes the
// input the fuzzer found (reduced) and checks the reader's documented error.
#include <gtest/gtest.h>

#include <sys/resource.h>

#include <cstdlib>
#include <fstream>

#include "engine/data/idx_file.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/peft_layout.h"
#include "engine/io/safetensors.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Current virtual memory size of this process in bytes (from /proc/self/statm).
uint64_t address_space_bytes() {
    std::ifstream statm("/proc/self/statm");
    uint64_t pages = 0;
    statm >> pages;
    return pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

// Reads the IDX file with the address space capped at 512 MiB above the current size; returns 0 for
// the expected "truncated" DataError, 3 for another message, 4 for std::bad_alloc, 5 for no error.
int read_with_capped_memory(const std::string& path) {
    const rlim_t cap = address_space_bytes() + (rlim_t(512) << 20);
    const rlimit limit{cap, cap};
    ::setrlimit(RLIMIT_AS, &limit);
    try {
        read_idx_file(path, 3);
    } catch (const DataError& e) {
        const std::string message = e.what();
        const bool expected = message.find("truncated") != std::string::npos &&
                              message.find("expected 3712935555 bytes of the elements, got 8") != std::string::npos;
        return expected ? 0 : 3;
    } catch (const std::bad_alloc&) {
        return 4;
    }
    return 5;
}

}  // namespace

// Found by bench/fuzz_idx.cpp: a 24-byte file whose header declares [63, 2051, 28735] images (3.7 GB)
// made read_idx_file allocate and zero the declared size before reading a byte of the body
// (libFuzzer: out-of-memory, malloc(3712935555)). It must fail as truncated while allocating little:
// the check runs in a child process whose address space is capped at 512 MiB above the current size,
// where the old allocation throws std::bad_alloc.
TEST(IdxFuzzRegressions, HugeDeclaredBodyIsTruncatedWithoutAllocatingIt) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    TempDir dir("fuzz-idx-oom");
    const fs::path path = dir.path / "images-idx3-ubyte";
    {
        const unsigned char bytes[] = {0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x00, 0x3f, 0x00, 0x00, 0x08, 0x03,
                                       0x00, 0x00, 0x70, 0x3f, 0x00, 0x00, 0x00, 0x00, 0x03, 0x01, 0x71, 0x26};
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes), sizeof bytes);
    }
    EXPECT_EXIT(std::_Exit(read_with_capped_memory(path.string())), ::testing::ExitedWithCode(0), "");
    // The same file read normally: the same error.
    try {
        read_idx_file(path.string(), 3);
        FAIL() << "no error";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("truncated data file " + path.string()), std::string::npos) << e.what();
    }
}

// Found while splitting the PEFT reader's checks out of import_peft_adapter for bench/fuzz_peft_adapter.cpp:
// config fields of the wrong type ("r": "8", "use_dora": "yes", "rank_pattern": []) escaped as
// nlohmann::json::type_error, naming neither the file nor the field, and "r": 0 gave scale alpha / 0.
// Each must be a std::runtime_error naming adapter_config.json and the field.
TEST(PeftFuzzRegressions, WrongTypedOrOutOfRangeConfigFieldsNameTheFileAndField) {
    TempDir dir("fuzz-peft-fields");
    const std::string module = "base_model.model.blocks.0.attn.qkv";
    auto write_weights = [&](std::vector<int64_t> a_shape, std::vector<int64_t> b_shape) {
        auto values = [](const std::vector<int64_t>& shape) {
            return std::vector<float>(static_cast<size_t>(shape_numel(shape)), 0.5f);
        };
        write_safetensors((dir.path / kPeftWeightsFile).string(),
                          {TensorData::from_floats(module + ".lora_A.weight", a_shape, values(a_shape)),
                           TensorData::from_floats(module + ".lora_B.weight", b_shape, values(b_shape))});
    };
    const nlohmann::json good = {{"peft_type", "LORA"}, {"r", 2}, {"lora_alpha", 4.0}, {"use_rslora", false}};
    auto error_with = [&](const nlohmann::json& config) {
        std::ofstream(dir.path / kPeftConfigFile) << config.dump();
        try {
            import_peft_adapter(dir.path.string(), /*use_sidecar*/ false);
        } catch (const std::runtime_error& e) {
            return std::string(e.what());
        } catch (const std::exception& e) {
            return std::string("not a runtime_error: ") + e.what();
        }
        return std::string("no error");
    };
    write_weights({2, 3}, {4, 2});
    EXPECT_EQ(error_with(good), "no error");
    EXPECT_DOUBLE_EQ(import_peft_adapter(dir.path.string(), false).terms.at(0).scale, 2.0);

    const std::string config_file = (dir.path / kPeftConfigFile).string();
    const std::vector<std::pair<nlohmann::json, std::string>> cases = {
        {{{"r", "2"}}, "\"r\": must be a positive integer, got \"2\""},
        {{{"r", 0}}, "\"r\": must be a positive integer, got 0"},
        {{{"r", -2}}, "\"r\": must be a positive integer, got -2"},
        {{{"lora_alpha", nullptr}}, "\"lora_alpha\": must be a finite number, got null"},
        {{{"use_dora", "yes"}}, "\"use_dora\": must be true or false, got \"yes\""},
        {{{"use_rslora", 1}}, "\"use_rslora\": must be true or false, got 1"},
        {{{"rank_pattern", nlohmann::json::array()}}, "\"rank_pattern\": must be an object"},
        {{{"rank_pattern", {{"qkv", "2"}}}}, "\"rank_pattern.qkv\": must be a positive integer, got \"2\""},
        {{{"alpha_pattern", {{"qkv", true}}}}, "\"alpha_pattern.qkv\": must be a finite number, got true"},
    };
    for (const auto& [change, expected] : cases) {
        nlohmann::json config = good;
        config.update(change);
        const std::string e = error_with(config);
        EXPECT_NE(e.find(config_file + ": " + expected), std::string::npos) << change.dump() << " → " << e;
    }
    EXPECT_NE(error_with(nlohmann::json::array({good})).find(config_file + ": must be a JSON object, got array"),
              std::string::npos);

    write_weights({2, 0}, {4, 2});  // in = 0: not a LoRA factor pair
    EXPECT_NE(error_with(good).find("are not [r, in] and [out, r] with r, in, out ≥ 1"), std::string::npos)
        << error_with(good);
}
