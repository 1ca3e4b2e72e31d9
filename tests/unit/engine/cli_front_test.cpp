// lorica-cli is a torch-free front (cli/front_main.cpp) that runs the core commands itself and hands
// every other command line to lorica-cli-engine (cli/engine_executable.h): the front links no
// LibTorch; without the engine beside it the core commands still work and the others say what is
// missing (exit 2); through the hand-over the engine's exit code and messages reach the caller.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tests/support/temp_dir.h"

namespace fs = std::filesystem;
using lorica::testing::TempDir;

namespace {

struct Shell {
    int exit_code = -1;
    std::string output;  // stdout and stderr
};

Shell sh(const std::string& command) {
    Shell r;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return r;
    std::array<char, 4096> buf{};
    size_t n = 0;
    while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
    const int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

const std::string kCli = LORICA_CLI_PATH;
const std::string kEngine = (fs::path(LORICA_CLI_PATH).parent_path() / "lorica-cli-engine").string();

}  // namespace

TEST(CliFront, FrontLinksNoLibTorchAndTheEngineDoes) {
    ASSERT_TRUE(fs::exists(kEngine)) << kEngine;
    const Shell front = sh("ldd " + kCli);
    ASSERT_EQ(front.exit_code, 0) << front.output;
    EXPECT_EQ(front.output.find("libtorch"), std::string::npos) << front.output;
    EXPECT_EQ(front.output.find("libc10"), std::string::npos) << front.output;
    const Shell engine = sh("ldd " + kEngine);
    EXPECT_NE(engine.output.find("libtorch_cpu"), std::string::npos) << engine.output;
}

TEST(CliFront, WithoutTheEngineCoreCommandsRunAndTheOthersNameIt) {
    TempDir dir("cli-front-alone");
    const fs::path alone = dir.path / "lorica-cli";
    fs::copy_file(kCli, alone);
    const Shell presets = sh(alone.string() + " presets");
    EXPECT_EQ(presets.exit_code, 0) << presets.output;
    EXPECT_NE(presets.output.find("default"), std::string::npos) << presets.output;
    const Shell methods = sh(alone.string() + " -v methods");
    EXPECT_EQ(methods.exit_code, 0) << methods.output;
    EXPECT_NE(methods.output.find("sd-lora"), std::string::npos) << methods.output;
    for (const std::string args : {"run --preset smoke", "--version", "inspect x.safetensors", ""}) {
        const Shell r = sh(alone.string() + " " + args);
        EXPECT_EQ(r.exit_code, 2) << args << ": " << r.output;
        EXPECT_NE(r.output.find("cannot find lorica-cli-engine"), std::string::npos) << args << ": " << r.output;
        EXPECT_NE(r.output.find((dir.path / "lorica-cli-engine").string()), std::string::npos) << r.output;
    }
}

TEST(CliFront, TheEnginesExitCodesAndMessagesComeThrough) {
    TempDir dir("cli-front-handover");
    const std::string db = (dir.path / "never.sqlite").string();
    // Bad input found by the engine's preflight: exit 2, nothing created.
    const Shell bad = sh(kCli + " run --preset smoke --set threads=-3 --db " + db);
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find("threads"), std::string::npos) << bad.output;
    EXPECT_FALSE(fs::exists(db));
    // The engine knows every command: its unknown-command message lists the LibTorch ones too.
    const Shell unknown = sh(kCli + " -v trian");
    EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
    EXPECT_NE(unknown.output.find("unknown command 'trian'"), std::string::npos) << unknown.output;
    EXPECT_NE(unknown.output.find("inspect"), std::string::npos) << unknown.output;
    EXPECT_NE(unknown.output.find("runs"), std::string::npos) << unknown.output;
    const Shell version = sh(kCli + " --version");
    EXPECT_EQ(version.exit_code, 0) << version.output;
    EXPECT_NE(version.output.find("LibTorch"), std::string::npos) << version.output;
    // A core command's own bad input stays in the front: the same exit code and message as before.
    const Shell missing = sh(kCli + " runs --db " + db);
    EXPECT_EQ(missing.exit_code, 2) << missing.output;
    EXPECT_NE(missing.output.find("no results database at '" + db + "'"), std::string::npos) << missing.output;
    const Shell config = sh(kCli + " config --preset smoke --set method.name=lori-s --set method.options.sparsity=1");
    EXPECT_EQ(config.exit_code, 2) << config.output;
    EXPECT_NE(config.output.find("method.options.sparsity"), std::string::npos) << config.output;
}
