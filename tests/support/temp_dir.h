#pragma once
// A fresh directory under the system temp dir, removed with everything in it when the object dies:
// the one temporary directory of every test (unit, store, preset and GUI tests).
//
// Name: lorica-<tag>-<pid>-<n>, n counting the TempDirs of this process, so neither parallel test
// processes nor two TempDirs of one test (even with the same tag) ever share one. A directory left
// by a crashed run of the same name is removed first.

#include <atomic>
#include <filesystem>
#include <string>
#include <system_error>

#include <unistd.h>

namespace lorica::testing {

class TempDir {
public:
    explicit TempDir(const std::string& tag = "test") {
        static std::atomic<int> created{0};
        path = std::filesystem::temp_directory_path() /
               ("lorica-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(created++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;  // never throws from a destructor
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // `name` inside the directory, as a string (e.g. a database file to open).
    std::string file(const std::string& name) const { return (path / name).string(); }

    std::filesystem::path path;
};

}  // namespace lorica::testing
