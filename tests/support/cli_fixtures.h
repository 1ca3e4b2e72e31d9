#pragma once
// Fixtures for tests that run the real lorica-cli binary (LORICA_CLI_PATH): a tiny Fashion-MNIST-like
// IDX data set, a config that trains on it in seconds, the one way to start the CLI in a child
// process (spawn_cli: run to the end, or poll for a state with a timeout and then signal it), and
// file helpers (bytes, sizes) for "the database is untouched" checks.

#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorica::testing {

// Big-endian u32, as IDX headers store their sizes.
inline void put_u32_be(std::ofstream& out, uint32_t v) {
    const unsigned char b[4] = {static_cast<unsigned char>(v >> 24), static_cast<unsigned char>(v >> 16),
                                static_cast<unsigned char>(v >> 8), static_cast<unsigned char>(v)};
    out.write(reinterpret_cast<const char*>(b), 4);
}

// Writes uncompressed IDX files (train-/t10k- images and labels, the names the Fashion-MNIST loader
// looks for) under `root`: `classes` classes, images of class c labelled c, `train_per_class` and
// `test_per_class` images each (class-major order), 28×28 pixels with a class-dependent pattern.
inline void write_tiny_fashion_mnist(const std::filesystem::path& root, int classes, int train_per_class,
                                     int test_per_class) {
    std::filesystem::create_directories(root);
    auto write_split = [&](const std::string& prefix, int per_class) {
        const uint32_t n = static_cast<uint32_t>(classes * per_class);
        std::ofstream images(root / (prefix + "-images-idx3-ubyte"), std::ios::binary);
        put_u32_be(images, 0x00000803);
        put_u32_be(images, n);
        put_u32_be(images, 28);
        put_u32_be(images, 28);
        std::ofstream labels(root / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
        put_u32_be(labels, 0x00000801);
        put_u32_be(labels, n);
        for (int c = 0; c < classes; ++c)
            for (int i = 0; i < per_class; ++i) {
                for (int p = 0; p < 28 * 28; ++p) {
                    const int row = p / 28, col = p % 28;
                    const bool on = ((row / 4 + c) % 3 == 0) || ((col + 2 * c) % 7 == i % 7);
                    images.put(static_cast<char>(on ? 200 + (i * 13) % 56 : (p * 7 + i) % 40));
                }
                labels.put(static_cast<char>(c));
            }
    };
    write_split("train", train_per_class);
    write_split("t10k", test_per_class);
}

// A config that runs in a few seconds on `data_root` (written by write_tiny_fashion_mnist with at
// least 12 training and 6 test images per class): foundation 2 classes, 2 tasks × 2 classes, rank 2.
inline nlohmann::json tiny_run_config(const std::filesystem::path& data_root, const std::filesystem::path& cache_dir) {
    return {{"name", "tiny"},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", cache_dir.string()},
            {"data", {{"root", data_root.string()}, {"train_per_class", 6}, {"test_per_class", 4}}},
            {"foundation", {{"classes", 2}, {"train_per_class", 6}, {"epochs", 1}, {"batch_size", 8}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity"}}}},
            {"backbone", {{"dim", 32}, {"depth", 2}, {"heads", 2}}},
            {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}},
            {"train", {{"epochs", 1}, {"batch_size", 8}}},
            {"eval", {{"batch_size", 64}, {"random_init", false}}}};
}

inline void write_text(const std::filesystem::path& path, const std::string& text) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

struct CliResult {
    int exit_code = -1;  // -1 when the child did not exit normally
    int signal = 0;      // the signal that ended it, if any
    std::string output;  // stdout and stderr, interleaved
};

// How the child runs.
struct CliLimits {
    std::optional<rlim_t> max_file_bytes;  // RLIMIT_FSIZE, with SIGXFSZ ignored (writes fail with EFBIG)
    std::vector<std::pair<std::string, std::string>> env;  // extra environment variables
};

// A lorica-cli child process (spawn_cli), its stdout and stderr going to a log file. Movable, not
// copyable; the destructor kills (SIGKILL) and reaps a child still running, so a failed assertion
// never leaves one behind.
class CliProcess {
public:
    CliProcess(pid_t pid, std::filesystem::path log) : pid_(pid), log_(std::move(log)) {}
    CliProcess(CliProcess&& other) noexcept
        : pid_(std::exchange(other.pid_, -1)),
          log_(std::move(other.log_)),
          status_(other.status_),
          ended_(other.ended_) {}
    CliProcess& operator=(CliProcess&&) = delete;
    CliProcess(const CliProcess&) = delete;
    CliProcess& operator=(const CliProcess&) = delete;
    ~CliProcess() {
        if (pid_ > 0) stop(SIGKILL);
    }

    pid_t pid() const { return pid_; }
    const std::filesystem::path& log() const { return log_; }

    // Calls `ready()` every `interval` until it returns true (→ true), the child ends by itself, or
    // `timeout` passes (→ false for both). An exception from `ready` counts as "not yet" (e.g. a
    // database whose schema the child has not written).
    bool wait_until(const std::function<bool()>& ready, std::chrono::milliseconds timeout,
                    std::chrono::milliseconds interval = std::chrono::milliseconds(10)) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (!running()) return false;
            try {
                if (ready()) return true;
            } catch (const std::exception&) {}
            std::this_thread::sleep_for(interval);
        }
        return false;
    }

    // Sends `signal` (when still running), waits for the child to end and returns how it ended.
    CliResult stop(int signal) {
        if (running()) ::kill(pid_, signal);
        return wait();
    }

    // Waits for the child to end by itself and returns how it ended, with its output.
    CliResult wait() {
        CliResult result;
        if (pid_ > 0 && !ended_) {
            ::waitpid(pid_, &status_, 0);
            ended_ = true;
        }
        if (WIFEXITED(status_)) result.exit_code = WEXITSTATUS(status_);
        if (WIFSIGNALED(status_)) result.signal = WTERMSIG(status_);
        pid_ = -1;
        result.output = read_bytes(log_);
        return result;
    }

private:
    bool running() {
        if (pid_ <= 0 || ended_) return false;
        if (::waitpid(pid_, &status_, WNOHANG) == pid_) ended_ = true;
        return !ended_;
    }

    pid_t pid_ = -1;
    std::filesystem::path log_;
    int status_ = 0;
    bool ended_ = false;
};

// Starts lorica-cli (LORICA_CLI_PATH) with `args` in a child process; stdout and stderr go to `log`.
inline CliProcess spawn_cli(const std::vector<std::string>& args, const std::filesystem::path& log,
                            const CliLimits& limits = {}) {
    const pid_t child = ::fork();
    if (child == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            ::dup2(fd, 1);
            ::dup2(fd, 2);
        }
        for (const auto& [k, v] : limits.env) ::setenv(k.c_str(), v.c_str(), 1);
        if (limits.max_file_bytes) {
            ::signal(SIGXFSZ, SIG_IGN);
            rlimit r{*limits.max_file_bytes, *limits.max_file_bytes};
            ::setrlimit(RLIMIT_FSIZE, &r);
        }
        std::vector<char*> argv;
        argv.push_back(const_cast<char*>(LORICA_CLI_PATH));
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(LORICA_CLI_PATH, argv.data());
        ::_exit(127);
    }
    return CliProcess(child, log);
}

// Runs lorica-cli with `args` to the end; stdout and stderr go to `log` (then read back).
inline CliResult run_cli_to(const std::vector<std::string>& args, const std::filesystem::path& log,
                            const CliLimits& limits = {}) {
    return spawn_cli(args, log, limits).wait();
}

}  // namespace lorica::testing
