// Regressions found by fuzzing the config reader (bench/fuzz_config.cpp): each test makes the input
// the fuzzer found (reduced) and checks that it now gives a ConfigError naming the file or field,
// never another exception type.
#include <gtest/gtest.h>

#include <fstream>

#include "engine/config/experiment_config.h"
#include "engine/config/presets.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::TempDir;

namespace {

// The message of the ConfigError `f` throws; fails the test for no exception or another type.
template <typename F>
ConfigError config_error_of(F&& f) {
    try {
        f();
    } catch (const ConfigError& e) {
        return e;
    } catch (const std::exception& e) {
        ADD_FAILURE() << "not a ConfigError: " << e.what();
        return ConfigError("", "other exception");
    }
    ADD_FAILURE() << "no error";
    return ConfigError("", "no error");
}

}  // namespace

// Found: `--set method.name=full\xADfinetune` was stored as a string with a byte that is not UTF-8;
// parsing accepted it and the first dump of the effective config (log line, database, config_hash)
// threw nlohmann's type_error 316 naming no field.
TEST(ConfigFuzzRegressions, OverrideWithInvalidUtf8IsAConfigErrorNamingTheField) {
    nlohmann::json doc = nlohmann::json::object();
    const ConfigError value_error = config_error_of([&] {
        apply_override(doc,
                       "method.name=full\xAD"
                       "finetune");
    });
    EXPECT_EQ(value_error.field(), "method.name");
    EXPECT_NE(std::string(value_error.what()).find("not valid UTF-8"), std::string::npos) << value_error.what();
    EXPECT_TRUE(doc.empty()) << "nothing was set";
    const ConfigError key_error = config_error_of([&] { apply_override(doc, "method.\xFF=1"); });
    EXPECT_EQ(key_error.field(), "");
    EXPECT_NE(std::string(key_error.what()).find("not valid UTF-8"), std::string::npos) << key_error.what();
    // Valid multi-byte UTF-8 still goes through, and the effective config dumps.
    apply_override(doc, "name=r\xC3\xA9sum\xC3\xA9 \xE2\x88\x86W");
    const ExperimentConfig config = parse_experiment_config(doc);
    EXPECT_EQ(config.name, "r\xC3\xA9sum\xC3\xA9 \xE2\x88\x86W");
    EXPECT_NO_THROW((void)config_hash(to_json(config)));
}

// Found: a number beyond double's range (1e400) makes nlohmann's parser throw out_of_range 406, which
// is not a parse_error: it escaped read_json_file / load_experiment_config (no file name in the
// message) and escaped apply_override for `--set train.optimizer.lr=1e400`.
TEST(ConfigFuzzRegressions, NumberBeyondDoubleIsAConfigErrorNamingTheFileOrField) {
    TempDir dir("fuzz-config-1e400");
    const std::string path = (dir.path / "huge.json").string();
    std::ofstream(path) << R"({"train": {"optimizer": {"lr": 1e400}}})";
    for (const ConfigError& e :
         {config_error_of([&] { read_json_file(path); }), config_error_of([&] { load_experiment_config(path); }),
          config_error_of([&] { assemble_config_document(path, "", {}); })}) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
    }
    nlohmann::json doc = nlohmann::json::object();
    apply_override(doc, "train.optimizer.lr=1e400");  // not a JSON number: kept as the string "1e400"
    EXPECT_EQ(doc["train"]["optimizer"]["lr"], "1e400");
    const ConfigError e = config_error_of([&] { parse_experiment_config(doc); });
    EXPECT_EQ(e.field(), "train.optimizer.lr");
    EXPECT_NE(std::string(e.what()).find("must be a number"), std::string::npos) << e.what();
}
