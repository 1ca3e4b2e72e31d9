// LORICA_TORCH_LIB and --version: the checks of a LibTorch folder (files, version files of the pip wheel
// and of the LibTorch archive), the loaded-library lookup, the version text, and lorica-cli itself
// restarted on a LibTorch folder (the one this test links, which holds libtorch_cuda.so).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/wait.h>

#include "engine/runtime/device.h"
#include "engine/runtime/runtime_info.h"
#include "engine/runtime/torch_library.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path) << text;
}

// A fake LibTorch tree: <root>/lib with the named (empty) libraries.
fs::path fake_torch(const fs::path& root, std::initializer_list<const char*> libraries) {
    for (const char* l : libraries) write_file(root / "lib" / l, "");
    return root / "lib";
}

std::string error_of(const fs::path& dir, const std::string& expected) {
    try {
        check_torch_library_dir(dir, expected);
    } catch (const TorchLibraryError& e) {
        return e.what();
    }
    return "";
}

struct Result {
    int exit_code;
    std::string output;
};

Result run(const std::string& command) {
    Result r{-1, {}};
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe) return r;
    char buf[512];
    while (size_t n = fread(buf, 1, sizeof buf, pipe)) r.output.append(buf, n);
    const int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

}  // namespace

TEST(TorchLibrary, VersionFromTheWheelOrTheArchiveWithoutLocalPart) {
    TempDir tmp("torchlib-version");
    const fs::path wheel = fake_torch(tmp.path / "wheel" / "torch", {});
    write_file(wheel / ".." / "version.py",
               "from typing import Optional\n__all__ = ['__version__']\n__version__ = '2.11.0+cu130'\ncuda = '13.0'\n");
    EXPECT_EQ(torch_version_of_library_dir(wheel), "2.11.0");

    const fs::path archive = fake_torch(tmp.path / "libtorch", {});
    write_file(archive / ".." / "build-version", "2.10.1+cu126\n");
    EXPECT_EQ(torch_version_of_library_dir(archive), "2.10.1");

    const fs::path bare = fake_torch(tmp.path / "bare", {"libc10.so"});
    EXPECT_EQ(torch_version_of_library_dir(bare), std::nullopt);
    write_file(bare / ".." / "version.py", "git_version = 'abc'\n");
    EXPECT_EQ(torch_version_of_library_dir(bare), std::nullopt) << "a version.py without __version__";
}

TEST(TorchLibrary, FolderChecksNameWhatIsWrong) {
    TempDir tmp("torchlib-check");
    EXPECT_NE(error_of(tmp.path / "missing", "2.11.0")
                  .find("LORICA_TORCH_LIB=" + (tmp.path / "missing").string() + " is not a folder"),
              std::string::npos);

    const fs::path cpu_only = fake_torch(tmp.path / "cpu" / "torch", {"libtorch_cpu.so", "libc10.so"});
    write_file(cpu_only / ".." / "version.py", "__version__ = '2.11.0+cpu'\n");
    EXPECT_NE(error_of(cpu_only, "2.11.0").find("holds no libtorch_cuda.so"), std::string::npos);

    const fs::path cuda = fake_torch(tmp.path / "cuda" / "torch", {"libtorch_cpu.so", "libc10.so", "libtorch_cuda.so"});
    EXPECT_NE(error_of(cuda, "2.11.0").find("cannot tell which LibTorch"), std::string::npos);
    write_file(cuda / ".." / "version.py", "__version__ = '2.10.0+cu128'\n");
    const std::string mismatch = error_of(cuda, "2.11.0");
    EXPECT_NE(mismatch.find("holds LibTorch 2.10.0, but this Lorica was built with 2.11.0"), std::string::npos)
        << mismatch;
    write_file(cuda / ".." / "version.py", "__version__ = '2.11.0+cu130'\n");
    EXPECT_EQ(error_of(cuda, "2.11.0"), "");
}

TEST(TorchLibrary, LoadedLibraryPathFindsLibTorch) {
    const std::string cpu = loaded_library_path("libtorch_cpu.so");
    ASSERT_FALSE(cpu.empty());
    EXPECT_EQ(fs::path(cpu).filename(), "libtorch_cpu.so");
    EXPECT_TRUE(fs::path(cpu).is_absolute());
    EXPECT_TRUE(fs::exists(fs::path(cpu).parent_path() / "libc10.so"));
    EXPECT_EQ(loaded_library_path("libnot-a-loaded-library.so"), "");
}

TEST(RuntimeInfo, VersionTextSaysWhetherCudaIsUsable) {
    RuntimeInfo info;
    info.lorica_version = "0.1.0";
    info.torch_version = "2.11.0";
    info.torch_library = "/usr/lib/lorica/libtorch_cpu.so";
    EXPECT_EQ(version_text("lorica-cli", info),
              "lorica-cli 0.1.0\nLibTorch 2.11.0 (/usr/lib/lorica/libtorch_cpu.so)\n"
              "CUDA: not usable (LibTorch without CUDA; set LORICA_TORCH_LIB to the lib/ folder of a LibTorch 2.11.0 "
              "with CUDA)\n");
    info.cuda_library = "/t/lib/libtorch_cuda.so";
    EXPECT_EQ(version_text("lorica", info).substr(version_text("lorica", info).rfind("CUDA:")),
              "CUDA: not usable: no CUDA device or driver found (/t/lib/libtorch_cuda.so is loaded)\n");
    info.cuda_usable = true;
    info.cuda_devices = 2;
    EXPECT_EQ(version_text("lorica", info).substr(version_text("lorica", info).rfind("CUDA:")),
              "CUDA: usable, 2 devices (/t/lib/libtorch_cuda.so)\n");
}

TEST(TorchLibraryCli, VersionAndABadFolderAndARestartOnAGoodOne) {
    const std::string cli = LORICA_CLI_PATH;
    const Result plain = run("env -u LORICA_TORCH_LIB " + cli + " --version");
    EXPECT_EQ(plain.exit_code, 0) << plain.output;
    EXPECT_EQ(plain.output.rfind("lorica-cli " LORICA_VERSION "\nLibTorch " + torch_version() + " (", 0), 0u)
        << plain.output;
    EXPECT_NE(plain.output.find("\nCUDA: "), std::string::npos) << plain.output;

    const Result bad = run("LORICA_TORCH_LIB=/nonexistent/torch/lib " + cli + " --version");
    EXPECT_EQ(bad.exit_code, 2) << bad.output;
    EXPECT_NE(bad.output.find("error: LORICA_TORCH_LIB=/nonexistent/torch/lib is not a folder"), std::string::npos)
        << bad.output;

    // The folder this test's LibTorch comes from: the CUDA wheel's lib/ when built from the PyPI wheel.
    const fs::path dir = fs::path(loaded_library_path("libtorch_cpu.so")).parent_path();
    if (!fs::exists(dir / "libtorch_cuda.so") || !torch_version_of_library_dir(dir))
        GTEST_SKIP() << dir << " is no LibTorch with CUDA and a version file";
    const Result good = run("LORICA_TORCH_LIB=" + dir.string() + " " + cli + " --version");
    EXPECT_EQ(good.exit_code, 0) << good.output;
    EXPECT_NE(good.output.find("LibTorch " + torch_version() + " (" + (dir / "libtorch_cpu.so").string() + ")"),
              std::string::npos)
        << good.output;
    EXPECT_NE(good.output.find((dir / "libtorch_cuda.so").string()), std::string::npos)
        << "libtorch_cuda.so is loaded after the restart: " << good.output;
}
