#include "cli/kernel_choice_report.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string_view>

#include <ATen/Parallel.h>

#include "engine/config/experiment_config.h"
#include "engine/model/dense_linear.h"
#include "engine/model/kernel_choice.h"

namespace lorica::cli {

bool asks_verbose(int argc, char** argv) {
    for (int i = 1; i < argc; ++i)
        if (std::string_view(argv[i]) == "-v" || std::string_view(argv[i]) == "--verbose") return true;
    return false;
}

namespace {

// The default experiment's LoRALinear products (a ViT: qkv, proj, fc1, fc2) at its training and
// evaluation batch sizes.
std::vector<ProductShape> default_experiment_products() {
    const ExperimentConfig config;
    const auto& b = config.backbone;
    const int64_t tokens = static_cast<int64_t>(b.image_size / b.patch_size) * (b.image_size / b.patch_size) + 1;
    const int64_t dim = b.dim, hidden = static_cast<int64_t>(b.dim * b.mlp_ratio);
    std::vector<ProductShape> shapes;
    for (bool training : {true, false}) {
        const int64_t rows = (training ? config.train.batch_size : config.eval.batch_size) * tokens;
        for (auto [in, out, gelu] : {std::tuple<int64_t, int64_t, bool>{dim, 3 * dim, false},
                                     {dim, dim, false},
                                     {dim, hidden, true},
                                     {hidden, dim, false}})
            for (const auto& s : linear_layer_products(rows, in, out, training, gelu)) shapes.push_back(s);
    }
    return shapes;
}

}  // namespace

std::string kernel_choice_report() {
    const MachineIdentity id = current_machine_identity();
    const std::string path = kernel_cache_path(id);
    std::string text = "GEMM kernels (engine/model/kernel_choice.h), " + std::to_string(id.threads) + " thread" +
                       (id.threads == 1 ? "" : "s") + ":\n";
    text += "  CPU: " + id.cpu_model + " (" + id.cpu_signature + "), ISA: " + id.isa_flags + "\n";
    text += "  LibTorch " + id.torch_version + "\n";
    if (!onednn_linear_available()) return text + "  this LibTorch has no oneDNN linear: every product is ATen's\n";
    const char* mode = std::getenv("LORICA_KERNEL_CHOICE");
    if (mode && std::string_view(mode) == "rule")
        return text +
               "  LORICA_KERNEL_CHOICE=rule: nothing measured; forward and grad_input oneDNN, grad_weight ATen\n";
    text += "  cache: " + path + "\n";
    const bool remeasure = mode && std::string_view(mode) == "remeasure";
    std::vector<ProductShape> measure;
    if (remeasure || !std::filesystem::exists(path)) {
        measure = default_experiment_products();
        text += remeasure ? "  LORICA_KERNEL_CHOICE=remeasure: measuring the default experiment's products now\n"
                          : "  no cache file yet: measuring the default experiment's products now\n";
    }
    const KernelTable table = measured_kernel_table(measure);
    char line[160];
    std::snprintf(line, sizeof line, "  %-13s %7s %6s %6s %13s %10s %10s  %s\n", "product", "rows", "in", "out",
                  "measured rows", "aten ms", "onednn ms", "pick");
    text += line;
    for (const auto& [shape, t] : table.entries()) {
        std::snprintf(line, sizeof line, "  %-13s %7lld %6lld %6lld %13lld %10.3f %10.3f  %s\n", to_string(shape.role),
                      static_cast<long long>(shape.rows), static_cast<long long>(shape.in),
                      static_cast<long long>(shape.out), static_cast<long long>(t.measured_rows), t.aten_ms,
                      t.onednn_ms, to_string(t.pick));
        text += line;
    }
    if (table.empty()) text += "  (no product measured yet)\n";
    return text;
}

}  // namespace lorica::cli
