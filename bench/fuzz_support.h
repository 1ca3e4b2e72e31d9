#pragma once
// Shared helpers of the libFuzzer targets bench/fuzz_*.cpp (built by the "fuzz" preset, run by
// bench/run_fuzz.sh): a failed invariant traps (libFuzzer reports it as a crash with the input),
// inputs split into parts at the first NUL byte, and a scratch file for readers that take a path.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace lorica::fuzz {

// A broken invariant: trap, so that libFuzzer saves the input as a crash.
inline void check(bool condition) {
    if (!condition) __builtin_trap();
}

// An exception the reader's contract does not allow: print it, then trap.
[[noreturn]] inline void unexpected_exception(const char* what) {
    std::fprintf(stderr, "unexpected exception: %s\n", what);
    std::fflush(stderr);
    __builtin_trap();
}

// The bytes before the first NUL and the bytes after it (empty when there is none). Text formats
// (JSON) cannot contain a raw NUL, so the first part is always the whole text.
inline std::pair<std::string_view, std::span<const std::uint8_t>> split_at_nul(const std::uint8_t* data,
                                                                               std::size_t size) {
    std::size_t cut = 0;
    while (cut < size && data[cut] != 0) ++cut;
    const std::string_view text(reinterpret_cast<const char*>(data), cut);
    if (cut == size) return {text, {}};
    return {text, {data + cut + 1, size - cut - 1}};
}

// A private scratch directory (in /dev/shm when there is one), removed at exit.
inline const std::filesystem::path& scratch_dir() {
    struct Dir {
        std::filesystem::path path;
        Dir() {
            namespace fs = std::filesystem;
            const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
            path = base / ("lorica-fuzz-" + std::to_string(::getpid()));
            fs::create_directories(path);
        }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    };
    static const Dir dir;
    return dir.path;
}

// Writes `bytes` to scratch_dir()/name (replacing it) and returns the path.
inline std::string write_scratch_file(const std::string& name, std::span<const std::uint8_t> bytes) {
    const std::string path = (scratch_dir() / name).string();
    std::FILE* f = std::fopen(path.c_str(), "wb");
    check(f != nullptr);
    if (!bytes.empty()) check(std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
    check(std::fclose(f) == 0);
    return path;
}

inline std::string write_scratch_file(const std::string& name, std::string_view text) {
    return write_scratch_file(name, {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()});
}

}  // namespace lorica::fuzz
