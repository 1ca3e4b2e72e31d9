#include "engine/io/peft_adapter.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <torch/torch.h>

#include "engine/io/peft_layout.h"
#include "engine/io/safetensors.h"
#include "engine/io/tensor_io.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "base_model.model.";

struct ModuleLoRA {
    std::string module;
    torch::Tensor A, B;  // [R, in], [out, R]
    double alpha = 1.0;
    int64_t kernel_size = 0;  // conv mode: k (PEFT's Conv2d LoRA shapes when written)
    int64_t rank() const { return A.size(0); }
    // PEFT's tensors: Linear lora_A [R, in] / lora_B [out, R]; Conv2d lora_A [R, C, k, k] (a k×k conv)
    // and lora_B [out, R, 1, 1] (a 1×1 conv).
    torch::Tensor peft_A() const {
        return kernel_size ? A.view({rank(), A.size(1) / (kernel_size * kernel_size), kernel_size, kernel_size}) : A;
    }
    torch::Tensor peft_B() const { return kernel_size ? B.view({B.size(0), rank(), 1, 1}) : B; }
};

ModuleLoRA fold_module(const AdapterSet& set, const std::string& module) {
    std::vector<size_t> idx;
    for (size_t i = 0; i < set.terms.size(); ++i)
        if (set.terms[i].module == module) idx.push_back(i);
    const AdapterTerm& first = set.terms[idx.front()];
    bool uniform = true;
    for (size_t i : idx) uniform = uniform && set.terms[i].magnitude_index < 0 && set.terms[i].scale == first.scale;
    int64_t R = 0;
    for (size_t i : idx) R += set.terms[i].rank();
    ModuleLoRA out;
    out.module = module;
    out.kernel_size = first.kernel_size;
    out.A = torch::empty({R, first.in_features()}, torch::kFloat32);
    out.B = torch::zeros({first.out_features, R}, torch::kFloat32);
    int64_t col = 0;
    for (size_t i : idx) {
        const AdapterTerm& t = set.terms[i];
        const double c = uniform ? 1.0 : set.coefficient(i);
        out.A.narrow(0, col, t.rank()).copy_(t.A);
        out.B.narrow(0, t.row_offset, t.rows())
            .narrow(1, col, t.rank())
            .copy_(t.B.to(torch::kFloat64).mul(c).to(torch::kFloat32));
        col += t.rank();
    }
    out.alpha = uniform ? first.scale * static_cast<double>(R) : static_cast<double>(R);
    return out;
}

nlohmann::json read_json_file(const fs::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path.string() + ": cannot open");
    try {
        return nlohmann::json::parse(in);
    } catch (const std::exception& e) {
        throw std::runtime_error(path.string() + ": invalid JSON: " + e.what());
    }
}

}  // namespace

void export_peft_adapter(const std::string& dir, const AdapterSet& set, const PeftExportOptions& options) {
    if (set.empty())
        throw std::invalid_argument("PEFT export to " + dir + ": the adapter set has no terms (method " + set.method +
                                    ")");
    fs::create_directories(dir);
    std::vector<ModuleLoRA> loras;
    for (const auto& m : set.modules()) loras.push_back(fold_module(set, m));

    const int64_t r = loras.front().rank();
    const double alpha = loras.front().alpha;
    nlohmann::json rank_pattern = nlohmann::json::object(), alpha_pattern = nlohmann::json::object();
    nlohmann::json targets = nlohmann::json::array();
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto& l : loras) {
        targets.push_back(l.module);
        if (l.rank() != r) rank_pattern[l.module] = l.rank();
        if (l.alpha != alpha) alpha_pattern[l.module] = l.alpha;
        tensors.emplace_back(kPrefix + l.module + ".lora_A.weight", l.peft_A().contiguous());
        tensors.emplace_back(kPrefix + l.module + ".lora_B.weight", l.peft_B().contiguous());
    }
    nlohmann::json config = {
        {"peft_type", "LORA"},
        {"task_type", nullptr},
        {"base_model_name_or_path", options.base_model_name},
        {"r", r},
        {"lora_alpha", alpha},
        {"target_modules", targets},
        {"rank_pattern", rank_pattern},
        {"alpha_pattern", alpha_pattern},
        {"lora_dropout", 0.0},
        {"bias", "none"},
        {"fan_in_fan_out", false},
        {"use_rslora", false},
        {"use_dora", false},
        {"modules_to_save", nullptr},
        {"init_lora_weights", true},
        {"inference_mode", true},
    };
    {
        const fs::path tmp = fs::path(dir) / (std::string(kPeftConfigFile) + ".tmp");
        std::ofstream out(tmp);
        out << config.dump(2) << "\n";
        out.close();
        if (!out) throw std::runtime_error((fs::path(dir) / kPeftConfigFile).string() + ": write failed");
        fs::rename(tmp, fs::path(dir) / kPeftConfigFile);
    }
    std::map<std::string, std::string> meta = {{"format", "pt"}};
    meta["lorica.method"] = set.method;
    save_tensors((fs::path(dir) / kPeftWeightsFile).string(), tensors, meta);
    if (options.write_sidecar) save_adapter_set((fs::path(dir) / kLoricaAdapterFile).string(), set);
}

AdapterSet import_peft_adapter(const std::string& dir, bool use_sidecar) {
    const fs::path root(dir);
    if (!fs::is_directory(root))
        throw std::runtime_error(dir + ": not a directory (expected a PEFT adapter directory)");
    if (use_sidecar && fs::exists(root / kLoricaAdapterFile))
        return load_adapter_set((root / kLoricaAdapterFile).string());

    const fs::path config_path = root / kPeftConfigFile;
    const nlohmann::json config = read_json_file(config_path);
    const fs::path weights_path = root / kPeftWeightsFile;
    if (!fs::exists(weights_path))
        throw std::runtime_error(weights_path.string() +
                                 ": missing (adapter_model.bin is not supported: convert it to safetensors)");
    const SafetensorsFile file = SafetensorsFile::open(weights_path.string());
    const PeftLayout layout = read_peft_layout(config, config_path.string(), file);  // every check (peft_layout.h)

    AdapterSet set;
    set.method = layout.method;
    set.meta = {{"imported_from", dir}, {"base_model_name_or_path", layout.base_model_name_or_path}};
    for (const PeftModuleFactors& m : layout.modules) {
        AdapterTerm t;
        t.module = m.module;
        t.A = view_to_float_tensor(*m.A);
        t.B = view_to_float_tensor(*m.B);
        t.kernel_size = m.kernel_size;
        t.A = t.A.reshape({t.A.size(0), -1});  // Conv2d lora_A [r, C, k, k] → [r, C·k·k]
        t.B = t.B.reshape({t.B.size(0), -1});  // Conv2d lora_B [out, r, 1, 1] → [out, r]
        t.scale = m.scale;
        t.out_features = t.B.size(0);
        t.row_offset = 0;
        t.tag = "peft";
        set.terms.push_back(std::move(t));
    }
    return set;
}

std::string describe_adapter_directory(const std::string& dir) {
    const fs::path root(dir);
    std::ostringstream out;
    const AdapterSet peft = import_peft_adapter(dir, /*use_sidecar*/ false);
    const nlohmann::json config = read_json_file(root / kPeftConfigFile);
    out << "PEFT adapter directory " << dir << "\n";
    out << "  peft_type " << config.value("peft_type", std::string("?")) << ", r " << config.at("r").dump()
        << ", lora_alpha " << config.at("lora_alpha").dump() << ", base_model_name_or_path "
        << config.value("base_model_name_or_path", nlohmann::json(nullptr)).dump() << "\n";
    if (!config.value("rank_pattern", nlohmann::json::object()).empty())
        out << "  rank_pattern " << config.at("rank_pattern").dump() << "\n";
    if (!config.value("alpha_pattern", nlohmann::json::object()).empty())
        out << "  alpha_pattern " << config.at("alpha_pattern").dump() << "\n";
    int64_t params = 0;
    char line[256];
    out << "  modules (" << peft.terms.size() << "):\n";
    for (const auto& t : peft.terms) {
        params += t.A.numel() + t.B.numel();
        std::snprintf(line, sizeof line, "    %-28s r %-4lld A %-12s B %-12s scale %.6g  ||ΔW||_F %.6g\n",
                      t.module.c_str(), static_cast<long long>(t.rank()), format_shape(t.A.sizes().vec()).c_str(),
                      format_shape(t.B.sizes().vec()).c_str(), t.scale,
                      read_scalar((t.B.matmul(t.A) * t.scale).norm()));
        out << line;
    }
    out << "  parameters " << params << "\n";
    if (fs::exists(root / kLoricaAdapterFile)) {
        const AdapterSet lorica = load_adapter_set((root / kLoricaAdapterFile).string());
        out << "Lorica adapter set (" << kLoricaAdapterFile << "): method " << lorica.method << ", base " << lorica.base
            << ", " << lorica.terms.size() << " terms\n";
        std::map<int, std::pair<int, int64_t>> per_task;  // task → (terms, rank sum)
        for (const auto& t : lorica.terms) {
            per_task[t.task].first += 1;
            per_task[t.task].second += t.rank();
        }
        for (const auto& [task, v] : per_task)
            out << "  task " << task << ": " << v.first << " terms, total rank " << v.second << "\n";
        if (!lorica.magnitudes.empty()) {
            out << "  magnitudes";
            for (double m : lorica.magnitudes) out << " " << m;
            out << "\n";
        }
        int masks = 0;
        for (const auto& t : lorica.terms) masks += t.mask.defined();
        if (masks) out << "  masks on " << masks << " terms\n";
        if (!lorica.meta.empty()) out << "  meta " << lorica.meta.dump() << "\n";
    }
    return out.str();
}

}  // namespace lorica
