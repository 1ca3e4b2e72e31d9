#pragma once
// A fresh directory under the system temp dir, removed with everything in it when the object dies.
// The name carries a tag and the process id, so parallel test processes never share one.

#include <filesystem>
#include <string>

#include <unistd.h>

namespace lorica::testing {

struct TempDir {
    std::filesystem::path path;
    explicit TempDir(const std::string& tag) {
        path = std::filesystem::temp_directory_path() / ("lorica-" + tag + "-" + std::to_string(::getpid()));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() { std::filesystem::remove_all(path); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
};

}  // namespace lorica::testing
