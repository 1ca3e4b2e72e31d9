#include "engine/model/kernel_choice.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <torch/version.h>

#include "engine/model/dense_linear.h"
#include "engine/util/log.h"
#include "engine/util/paths.h"

namespace lorica {
namespace {

constexpr ProductRole kKernelChoiceRoles[] = {ProductRole::forward, ProductRole::forward_gelu, ProductRole::grad_input,
                                              ProductRole::grad_weight};

// The CPU part of the identity, read once: /proc/cpuinfo's first processor.
struct KernelChoiceCpu {
    std::string model = "unknown", signature = "unknown", flags;
};

const KernelChoiceCpu& kernel_choice_cpu() {
    static const KernelChoiceCpu cpu = [] {
        KernelChoiceCpu c;
        std::ifstream in("/proc/cpuinfo");
        std::string line, vendor, family, model, stepping;
        auto key_of = [](const std::string& l) {
            std::string k = l.substr(0, l.find(':'));
            k.erase(k.find_last_not_of(" \t") + 1);
            return k;
        };
        auto value = [](const std::string& l) {
            const auto colon = l.find(':');
            std::string v = colon == std::string::npos ? "" : l.substr(colon + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            v.erase(v.find_last_not_of(" \t\r") + 1);
            return v;
        };
        bool have_flags = false;
        while (std::getline(in, line) && !have_flags) {
            const std::string key = key_of(line);
            if (key == "vendor_id") vendor = value(line);
            if (key == "cpu family") family = value(line);
            if (key == "model name") c.model = value(line);
            if (key == "model") model = value(line);
            if (key == "stepping") stepping = value(line);
            if (key == "flags") {
                std::set<std::string> kept;
                std::istringstream words(value(line));
                for (std::string w; words >> w;)
                    if (w.starts_with("avx") || w.starts_with("amx") || w == "fma") kept.insert(w);
                for (const auto& w : kept) c.flags += (c.flags.empty() ? "" : " ") + w;
                have_flags = true;
            }
        }
        if (!vendor.empty()) c.signature = vendor + " " + family + "/" + model + "/" + stepping;
        return c;
    }();
    return cpu;
}

uint64_t kernel_choice_fnv1a(const std::string& s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
    return h;
}

struct KernelChoiceState {
    std::mutex mutex;
    std::optional<KernelTable> given;
    std::map<int, KernelTable> measured;  // per thread count, once loaded
};

KernelChoiceState& kernel_choice_state() {
    static KernelChoiceState state;
    return state;
}

std::string kernel_choice_mode() {
    const char* mode = std::getenv("LORICA_KERNEL_CHOICE");
    return mode ? mode : "";
}

// The measured table for identity.threads, loaded from its file on first use (unless re-measuring).
KernelTable& kernel_choice_loaded(KernelChoiceState& state, const MachineIdentity& identity) {
    auto it = state.measured.find(identity.threads);
    if (it != state.measured.end()) return it->second;
    KernelTable table;
    const std::string path = kernel_cache_path(identity);
    if (kernel_choice_mode() != "remeasure" && std::filesystem::exists(path)) {
        try {
            std::ifstream in(path);
            table = KernelTable::from_json(nlohmann::json::parse(in).at("table"));
        } catch (const std::exception& e) {
            log::warn("kernel choice: ignoring unreadable " + path + " (" + e.what() + ")");
        }
    }
    return state.measured.emplace(identity.threads, std::move(table)).first->second;
}

void kernel_choice_save(const KernelTable& table, const MachineIdentity& identity) {
    namespace fs = std::filesystem;
    const fs::path path = kernel_cache_path(identity);
    try {
        fs::create_directories(path.parent_path());
        const fs::path tmp = path.string() + ".tmp" + std::to_string(::getpid());
        {
            std::ofstream out(tmp);
            out << nlohmann::json{{"machine", identity.to_json()}, {"table", table.to_json()}}.dump(1) << "\n";
            if (!out) throw std::runtime_error("cannot write " + tmp.string());
        }
        fs::rename(tmp, path);
    } catch (const std::exception& e) {
        log::warn(std::string("kernel choice: could not save the measured table: ") + e.what());
    }
}

// Measures the shapes the table lacks; returns whether any was measured.
bool kernel_choice_measure_missing(KernelTable& table, const std::vector<ProductShape>& shapes) {
    bool any = false;
    for (const auto& s : shapes) {
        if (s.rows <= 0 || s.in <= 0 || s.out <= 0 || table.pick(s)) continue;
        const KernelTiming t = measure_product(s);
        table.set(t);
        any = true;
        char line[200];
        std::snprintf(
            line, sizeof line, "kernel choice: %s [%lld, %lld]x[%lld, %lld]: aten %.3f ms, onednn %.3f ms -> %s",
            to_string(s.role), static_cast<long long>(s.rows), static_cast<long long>(s.in),
            static_cast<long long>(s.in), static_cast<long long>(s.out), t.aten_ms, t.onednn_ms, to_string(t.pick));
        log::debug(line);
    }
    return any;
}

// An exclusive lock on <cache file>.lock while it lives (flock: released when the process ends, so a
// killed process never leaves it held). No lock when the folder cannot be made or the file opened.
class KernelCacheLock {
public:
    explicit KernelCacheLock(const std::string& cache_path) {
        std::error_code ec;
        std::filesystem::create_directories(std::filesystem::path(cache_path).parent_path(), ec);
        fd_ = ::open((cache_path + ".lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        if (fd_ >= 0) ::flock(fd_, LOCK_EX);
    }
    ~KernelCacheLock() {
        if (fd_ >= 0) ::close(fd_);  // closing releases the lock
    }
    KernelCacheLock(const KernelCacheLock&) = delete;
    KernelCacheLock& operator=(const KernelCacheLock&) = delete;

private:
    int fd_ = -1;
};

// Measures the shapes `table` lacks with the cache file locked, after reading the file again under
// the lock: processes that start together (a sweep's local shards, parallel test binaries) measure
// each shape once, and every process uses the pick of the one that measured it — picks from two
// measurements on a busy machine could differ, and with them the runs' float rounding. Saves the
// table when anything was measured or taken from the file.
void kernel_choice_measure_shared(KernelTable& table, const std::vector<ProductShape>& shapes,
                                  const MachineIdentity& identity) {
    auto lacks_any = [&] {
        return std::any_of(shapes.begin(), shapes.end(), [&](const ProductShape& s) {
            return s.rows > 0 && s.in > 0 && s.out > 0 && !table.pick(s);
        });
    };
    if (!lacks_any()) return;
    const std::string path = kernel_cache_path(identity);
    KernelCacheLock lock(path);
    if (kernel_choice_mode() != "remeasure" && std::filesystem::exists(path)) {
        try {
            std::ifstream in(path);
            const KernelTable on_disk = KernelTable::from_json(nlohmann::json::parse(in).at("table"));
            for (const auto& [shape, timing] : on_disk.entries())
                if (!table.pick(shape)) table.set(timing);
        } catch (const std::exception& e) {
            log::warn("kernel choice: ignoring unreadable " + path + " (" + e.what() + ")");
        }
    }
    kernel_choice_measure_missing(table, shapes);
    kernel_choice_save(table, identity);
}

}  // namespace

const char* to_string(GemmKernel kernel) { return kernel == GemmKernel::onednn ? "onednn" : "aten"; }

const char* to_string(ProductRole role) {
    switch (role) {
        case ProductRole::forward:
            return "forward";
        case ProductRole::forward_gelu:
            return "forward_gelu";
        case ProductRole::grad_input:
            return "grad_input";
        case ProductRole::grad_weight:
            return "grad_weight";
    }
    return "?";
}

GemmKernel fallback_kernel(ProductRole role) {
    return role == ProductRole::grad_weight ? GemmKernel::aten : GemmKernel::onednn;
}

std::optional<GemmKernel> KernelTable::pick(const ProductShape& shape) const {
    auto it = entries_.find(shape);
    if (it == entries_.end()) return std::nullopt;
    return it->second.pick;
}

nlohmann::json KernelTable::to_json() const {
    nlohmann::json entries = nlohmann::json::array();
    for (const auto& [shape, t] : entries_)
        entries.push_back({{"role", to_string(shape.role)},
                           {"rows", shape.rows},
                           {"in", shape.in},
                           {"out", shape.out},
                           {"measured_rows", t.measured_rows},
                           {"aten_ms", t.aten_ms},
                           {"onednn_ms", t.onednn_ms},
                           {"pick", to_string(t.pick)}});
    return {{"entries", entries}};
}

KernelTable KernelTable::from_json(const nlohmann::json& doc) {
    KernelTable table;
    if (!doc.is_object() || !doc.contains("entries") || !doc["entries"].is_array()) return table;
    for (const auto& e : doc["entries"]) {
        try {
            KernelTiming t;
            const std::string role = e.at("role"), pick = e.at("pick");
            auto r = std::find_if(std::begin(kKernelChoiceRoles), std::end(kKernelChoiceRoles),
                                  [&](ProductRole x) { return role == to_string(x); });
            if (r == std::end(kKernelChoiceRoles) || (pick != "aten" && pick != "onednn")) continue;
            t.shape = {*r, e.at("rows").get<int64_t>(), e.at("in").get<int64_t>(), e.at("out").get<int64_t>()};
            t.measured_rows = e.value("measured_rows", t.shape.rows);
            t.aten_ms = e.value("aten_ms", 0.0);
            t.onednn_ms = e.value("onednn_ms", 0.0);
            t.pick = pick == "onednn" ? GemmKernel::onednn : GemmKernel::aten;
            table.set(t);
        } catch (const nlohmann::json::exception&) {
            continue;  // a malformed entry: measured again when needed
        }
    }
    return table;
}

std::string MachineIdentity::key() const {
    std::string name;
    for (char ch : cpu_model) {
        if (std::isalnum(static_cast<unsigned char>(ch)))
            name.push_back(ch);
        else if (!name.empty() && name.back() != '-')
            name.push_back('-');
    }
    while (!name.empty() && name.back() == '-') name.pop_back();
    if (name.size() > 40) name.resize(40);
    char hash[17];
    std::snprintf(hash, sizeof hash, "%016llx",
                  static_cast<unsigned long long>(
                      kernel_choice_fnv1a(cpu_model + "|" + cpu_signature + "|" + isa_flags + "|" + torch_version)));
    return (name.empty() ? "cpu" : name) + "-" + hash + "-t" + std::to_string(threads);
}

nlohmann::json MachineIdentity::to_json() const {
    return {{"cpu_model", cpu_model},
            {"cpu_signature", cpu_signature},
            {"isa_flags", isa_flags},
            {"torch_version", torch_version},
            {"threads", threads}};
}

MachineIdentity current_machine_identity(int threads) {
    const KernelChoiceCpu& cpu = kernel_choice_cpu();
    return {cpu.model, cpu.signature, cpu.flags, TORCH_VERSION, threads > 0 ? threads : at::get_num_threads()};
}

std::string kernel_cache_path(const MachineIdentity& identity) {
    return (std::filesystem::path(default_cache_dir()) / "kernel-choice" / (identity.key() + ".json")).string();
}

std::vector<ProductShape> linear_layer_products(int64_t rows, int64_t in, int64_t out, bool training,
                                                bool gelu_follows) {
    if (!training) return {{gelu_follows ? ProductRole::forward_gelu : ProductRole::forward, rows, in, out}};
    return {{ProductRole::forward, rows, in, out},
            {ProductRole::grad_input, rows, in, out},
            {ProductRole::grad_weight, rows, in, out}};
}

int64_t measured_rows_of(const ProductShape& shape) {
    const double per_row = 2.0 * static_cast<double>(shape.in) * static_cast<double>(shape.out);
    return std::min<int64_t>(shape.rows, std::max<int64_t>(512, static_cast<int64_t>(1e9 / per_row)));
}

KernelTiming measure_product(const ProductShape& shape) {
    TORCH_CHECK(onednn_linear_available(), "measure_product: this LibTorch has no oneDNN linear");
    TORCH_CHECK(shape.rows > 0 && shape.in > 0 && shape.out > 0, "measure_product: empty shape");
    torch::NoGradGuard no_grad;
    using Clock = std::chrono::steady_clock;
    const double per_row = 2.0 * static_cast<double>(shape.in) * static_cast<double>(shape.out);
    const int64_t rows = measured_rows_of(shape);
    auto gen = at::detail::createCPUGenerator(20261207);
    auto randn = [&](std::vector<int64_t> sizes) { return torch::randn(sizes, gen, torch::kFloat32); };
    torch::Tensor lhs, rhs, bias;
    switch (shape.role) {
        case ProductRole::forward:
        case ProductRole::forward_gelu:
            lhs = randn({rows, shape.in}), rhs = randn({shape.out, shape.in}), bias = randn({shape.out});
            break;
        case ProductRole::grad_input:
            lhs = randn({rows, shape.out}), rhs = randn({shape.out, shape.in});
            break;
        case ProductRole::grad_weight:
            lhs = randn({rows, shape.out}), rhs = randn({rows, shape.in});
            break;
    }
    const int calls = static_cast<int>(std::max(1.0, std::ceil(5e7 / (per_row * static_cast<double>(rows)))));
    auto sample_ms = [&](GemmKernel k) {
        const auto t0 = Clock::now();
        for (int i = 0; i < calls; ++i) (void)dense_product(shape.role, k, lhs, rhs, bias);
        return std::chrono::duration<double, std::milli>(Clock::now() - t0).count() / calls;
    };
    (void)sample_ms(GemmKernel::aten), (void)sample_ms(GemmKernel::onednn);  // warm-up (oneDNN primitive caches)
    // At least 5 samples each and ~2 ms of each candidate, at most 25: the fastest sample of a loaded
    // machine (other processes, threads descheduled) is the one closest to the kernel's own speed.
    double aten = 1e300, onednn = 1e300, spent_ms = 0;
    for (int s = 0; s < 25 && (s < 5 || spent_ms < 4.0); ++s) {
        const auto t0 = Clock::now();
        if (s % 2 == 0) {
            aten = std::min(aten, sample_ms(GemmKernel::aten));
            onednn = std::min(onednn, sample_ms(GemmKernel::onednn));
        } else {
            onednn = std::min(onednn, sample_ms(GemmKernel::onednn));
            aten = std::min(aten, sample_ms(GemmKernel::aten));
        }
        spent_ms += std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    }
    // Ties (within kKernelChoiceMargin) go to the fallback rule's library.
    const GemmKernel rule = fallback_kernel(shape.role);
    const double rule_ms = rule == GemmKernel::aten ? aten : onednn,
                 other_ms = rule == GemmKernel::aten ? onednn : aten;
    const GemmKernel other = rule == GemmKernel::aten ? GemmKernel::onednn : GemmKernel::aten;
    return {shape, rows, aten, onednn, other_ms < (1.0 - kKernelChoiceMargin) * rule_ms ? other : rule};
}

GemmKernel chosen_kernel(const ProductShape& shape, const std::vector<ProductShape>& also) {
    if (!onednn_linear_available()) return GemmKernel::aten;
    KernelChoiceState& state = kernel_choice_state();
    std::lock_guard<std::mutex> lock(state.mutex);
    if (state.given) return state.given->pick(shape).value_or(fallback_kernel(shape.role));
    if (kernel_choice_mode() == "rule") return fallback_kernel(shape.role);
    const MachineIdentity identity = current_machine_identity();
    KernelTable& table = kernel_choice_loaded(state, identity);
    if (auto k = table.pick(shape)) return *k;
    std::vector<ProductShape> shapes{shape};
    shapes.insert(shapes.end(), also.begin(), also.end());
    kernel_choice_measure_shared(table, shapes, identity);
    return table.pick(shape).value_or(fallback_kernel(shape.role));
}

KernelTable measured_kernel_table(const std::vector<ProductShape>& measure) {
    KernelChoiceState& state = kernel_choice_state();
    std::lock_guard<std::mutex> lock(state.mutex);
    const MachineIdentity identity = current_machine_identity();
    KernelTable& table = kernel_choice_loaded(state, identity);
    if (onednn_linear_available()) kernel_choice_measure_shared(table, measure, identity);
    return table;
}

void use_given_kernel_table(KernelTable table) {
    KernelChoiceState& state = kernel_choice_state();
    std::lock_guard<std::mutex> lock(state.mutex);
    state.given = std::move(table);
}

void use_measured_kernel_tables() {
    KernelChoiceState& state = kernel_choice_state();
    std::lock_guard<std::mutex> lock(state.mutex);
    state.given.reset();
    state.measured.clear();  // read the cache files again (a test may have pointed the cache elsewhere)
}

}  // namespace lorica
