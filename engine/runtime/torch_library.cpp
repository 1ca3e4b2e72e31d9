#include "engine/runtime/torch_library.h"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>

#include <dlfcn.h>
#include <link.h>
#include <unistd.h>

#include "engine/runtime/device.h"

namespace lorica {

namespace fs = std::filesystem;

namespace {

constexpr const char* kVariable = "LORICA_TORCH_LIB";
// Set on the re-executed process: the folder already first on LD_LIBRARY_PATH.
constexpr const char* kInUseVariable = "LORICA_TORCH_LIB_IN_USE";

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string without_local_part(std::string version) {
    if (auto plus = version.find('+'); plus != std::string::npos) version.resize(plus);
    return version;
}

std::string folder_text(const fs::path& dir) { return std::string(kVariable) + "=" + dir.string(); }

std::string how_to_get_one(const std::string& version) {
    return "it must be the lib/ folder of a LibTorch " + version +
           " with CUDA, e.g. <venv>/lib/python3.*/site-packages/torch/lib after `pip install torch==" + version +
           "` in a virtual environment; unset " + kVariable + " to run on the CPU";
}

}  // namespace

std::optional<std::string> torch_version_of_library_dir(const fs::path& dir) {
    const fs::path wheel_file = dir / ".." / "version.py";
    if (fs::is_regular_file(wheel_file)) {
        static const std::regex assignment(R"(__version__\s*=\s*['"]([^'"]+)['"])");
        std::smatch m;
        const std::string text = read_text(wheel_file);
        if (std::regex_search(text, m, assignment)) return without_local_part(m[1].str());
    }
    const fs::path archive_file = dir / ".." / "build-version";
    if (fs::is_regular_file(archive_file)) {
        std::istringstream text(read_text(archive_file));
        std::string first;
        if (text >> first) return without_local_part(first);
    }
    return std::nullopt;
}

void check_torch_library_dir(const fs::path& dir, const std::string& expected_version) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw TorchLibraryError(folder_text(dir) + " is not a folder: " + how_to_get_one(expected_version));
    for (const char* library : {"libtorch_cpu.so", "libc10.so", "libtorch_cuda.so"}) {
        if (!fs::exists(dir / library, ec))
            throw TorchLibraryError(folder_text(dir) + " holds no " + library + ": " +
                                    how_to_get_one(expected_version));
    }
    const auto version = torch_version_of_library_dir(dir);
    if (!version)
        throw TorchLibraryError(folder_text(dir) +
                                ": cannot tell which LibTorch it holds (neither ../version.py nor "
                                "../build-version names a version); " +
                                how_to_get_one(expected_version));
    if (*version != expected_version)
        throw TorchLibraryError(folder_text(dir) + " holds LibTorch " + *version + ", but this Lorica was built with " +
                                expected_version + ": " + how_to_get_one(expected_version));
}

std::string loaded_library_path(const std::string& file_name) {
    struct Search {
        const std::string* name;
        std::string found;
    } search{&file_name, {}};
    dl_iterate_phdr(
        [](dl_phdr_info* info, size_t, void* data) {
            auto* s = static_cast<Search*>(data);
            if (info->dlpi_name && *info->dlpi_name && fs::path(info->dlpi_name).filename() == *s->name) {
                s->found = info->dlpi_name;
                return 1;
            }
            return 0;
        },
        &search);
    if (search.found.empty()) return {};
    std::error_code ec;
    fs::path canonical = fs::canonical(search.found, ec);
    return ec ? search.found : canonical.string();
}

std::string use_torch_library_from_env(char** argv) {
    const char* value = std::getenv(kVariable);
    if (!value || !*value) return {};
    const fs::path given(value);
    const std::string expected = torch_version();
    check_torch_library_dir(given, expected);
    const fs::path dir = fs::canonical(given);

    const char* in_use = std::getenv(kInUseVariable);
    if (!in_use || dir != fs::path(in_use)) {
        std::string path = dir.string();
        if (const char* old = std::getenv("LD_LIBRARY_PATH"); old && *old) path += std::string(":") + old;
        setenv("LD_LIBRARY_PATH", path.c_str(), 1);
        setenv(kInUseVariable, dir.c_str(), 1);
        execv("/proc/self/exe", argv);
        throw TorchLibraryError(folder_text(given) +
                                ": cannot restart with it on LD_LIBRARY_PATH: " + std::strerror(errno));
    }

    const std::string cpu_library = loaded_library_path("libtorch_cpu.so");
    if (cpu_library.empty() || fs::path(cpu_library).parent_path() != dir)
        throw TorchLibraryError(folder_text(given) + ": libtorch_cpu.so was loaded from " +
                                (cpu_library.empty() ? std::string("nowhere") : cpu_library) +
                                " instead (is LD_LIBRARY_PATH ignored for this program?)");
    const fs::path cuda_library = dir / "libtorch_cuda.so";
    if (!dlopen(cuda_library.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
        const char* why = dlerror();
        throw TorchLibraryError(folder_text(given) + ": cannot load " + cuda_library.string() + ": " +
                                (why ? why : "unknown error"));
    }
    return dir.string();
}

}  // namespace lorica
