// `lorica-cli prepare` (cli/prepare_command.h) run as a child process: it prepares a config's
// streamed data and says how to use it (exit 0), leaves a complete folder as it is, refuses bad input
// with the field (exit 2) and names the file it could not write (exit 1).

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/support/class_folders.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

namespace fs = std::filesystem;
using testing::CliLimits;
using testing::CliResult;
using testing::run_cli_to;
using testing::TempDir;

struct PrepareCommandFixture {
    TempDir dir{"prepare-cli"};
    fs::path out = dir.path / "prepared";

    PrepareCommandFixture() {
        testing::write_class_folders(dir.path / "folders", {"a", "b"}, 3, 2);
        testing::write_class_folders(dir.path / "other", {"a", "b", "c"}, 2, 1, 5);
        write_config("config.json", dir.path / "folders");
        write_config("other.json", dir.path / "other");
    }
    void write_config(const std::string& name, const fs::path& root) const {
        testing::write_text(dir.path / name,
                            nlohmann::json{{"data", {{"dataset", "image-folder"}, {"root", root.string()}}}}.dump());
    }
    CliResult prepare(const std::string& config, const std::vector<std::string>& extra = {},
                      const CliLimits& limits = {}) const {
        std::vector<std::string> args = {"prepare",   "--config", (dir.path / config).string(), "--out", out.string(),
                                         "--workers", "2"};
        args.insert(args.end(), extra.begin(), extra.end());
        return run_cli_to(args, dir.path / "log.txt", limits);
    }
};

TEST(PrepareCommand, PreparesTheDataAndSaysHowToUseIt) {
    PrepareCommandFixture f;
    const CliResult first = f.prepare("config.json");
    ASSERT_EQ(first.exit_code, 0) << first.output;
    EXPECT_NE(first.output.find("prepared 10 images (10 written now"), std::string::npos) << first.output;
    EXPECT_NE(first.output.find("--set data.prepared=" + f.out.string()), std::string::npos) << first.output;
    EXPECT_NE(first.output.find("10/10 images  100%"), std::string::npos) << first.output;  // the progress line
    EXPECT_TRUE(fs::exists(f.out / "prepared.json"));

    const CliResult again = f.prepare("config.json", {"--verify"});
    ASSERT_EQ(again.exit_code, 0) << again.output;
    EXPECT_NE(again.output.find("prepared 10 images (0 written now"), std::string::npos) << again.output;
    EXPECT_NE(again.output.find("CRC-32 checked"), std::string::npos) << again.output;
}

TEST(PrepareCommand, BadInputExitsTwoNamingTheField) {
    PrepareCommandFixture f;
    ASSERT_EQ(f.prepare("config.json").exit_code, 0);

    const CliResult size = f.prepare("config.json", {"--set", "data.resize_size=20"});
    EXPECT_EQ(size.exit_code, 2) << size.output;
    EXPECT_NE(size.output.find("data.resize_size"), std::string::npos) << size.output;

    const CliResult other = f.prepare("other.json");
    EXPECT_EQ(other.exit_code, 2) << other.output;
    EXPECT_NE(other.output.find("data.prepared"), std::string::npos) << other.output;
    EXPECT_NE(other.output.find("prepared from other data"), std::string::npos) << other.output;

    const CliResult missing = f.prepare("config.json", {"--set", "data.root=" + (f.dir.path / "nowhere").string()});
    EXPECT_EQ(missing.exit_code, 2) << missing.output;
    EXPECT_NE(missing.output.find("nowhere"), std::string::npos) << missing.output;

    testing::write_tiny_fashion_mnist(f.dir.path / "fmnist", 2, 2, 1);
    testing::write_text(f.dir.path / "fmnist.json",
                        nlohmann::json{{"data", {{"root", (f.dir.path / "fmnist").string()}}}}.dump());
    const CliResult memory = f.prepare("fmnist.json");
    EXPECT_EQ(memory.exit_code, 2) << memory.output;
    EXPECT_NE(memory.output.find("held in memory; nothing to prepare"), std::string::npos) << memory.output;
}

TEST(PrepareCommand, AFailedWriteExitsOneNamingTheFile) {
    PrepareCommandFixture f;
    CliLimits limits;
    limits.max_file_bytes = 8000;  // the first shard, 6 gray images at 64 × 64 (24 KiB), does not fit
    const CliResult full = f.prepare("config.json", {"--set", "data.resize_size=64"}, limits);
    EXPECT_EQ(full.exit_code, 1) << full.output;
    EXPECT_NE(full.output.find("shard-00000.u8.partial: cannot write"), std::string::npos) << full.output;
    // What was written stays a folder the next call continues.
    const CliResult resumed = f.prepare("config.json", {"--set", "data.resize_size=64"});
    EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
}

}  // namespace
}  // namespace lorica
