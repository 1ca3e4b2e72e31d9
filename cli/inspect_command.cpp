#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "cli/io_commands.h"
#include "engine/io/adapter_set.h"
#include "engine/io/peft_adapter.h"
#include "engine/io/safetensors.h"

namespace lorica::cli {
namespace fs = std::filesystem;

namespace {

std::string describe_set(const AdapterSet& set) {
    std::string out =
        "adapter set: method " + set.method + ", base " + set.base + ", " + std::to_string(set.terms.size()) + " terms";
    if (!set.magnitudes.empty()) {
        out += ", magnitudes";
        for (double m : set.magnitudes) out += " " + std::to_string(m);
    }
    out += "\n";
    char line[256];
    for (const auto& t : set.terms) {
        std::snprintf(line, sizeof line,
                      "  %-22s rows [%lld, %lld) r %-3lld task %-3d scale %-10.6g magnitude %-3d %s%s\n",
                      t.module.c_str(), static_cast<long long>(t.row_offset),
                      static_cast<long long>(t.row_offset + t.rows()), static_cast<long long>(t.rank()), t.task,
                      t.scale, t.magnitude_index, t.tag.c_str(), t.mask.defined() ? " (masked)" : "");
        out += line;
    }
    return out;
}

}  // namespace

int command_inspect(const std::string& path) {
    if (!fs::exists(path)) throw std::runtime_error(path + ": no such file or directory");
    if (fs::is_directory(path)) {
        if (fs::exists(fs::path(path) / kPeftConfigFile)) {
            std::printf("%s", describe_adapter_directory(path).c_str());
            return 0;
        }
        if (fs::exists(fs::path(path) / "checkpoint.json")) {
            const fs::path info_path = fs::path(path) / "checkpoint.json";
            std::ifstream in(info_path);
            nlohmann::json info = nlohmann::json::parse(in, nullptr, false);
            if (info.is_discarded()) throw std::runtime_error(info_path.string() + ": not valid JSON");
            std::printf("Lorica task checkpoint %s\n%s\n", path.c_str(), info.dump(2).c_str());
            std::printf("%s",
                        describe_set(load_adapter_set((fs::path(path) / "adapter_set.safetensors").string())).c_str());
            return 0;
        }
        throw std::runtime_error(
            path +
            ": a directory without adapter_config.json or checkpoint.json (not an adapter or checkpoint directory)");
    }
    SafetensorsFile file = SafetensorsFile::open(path);
    std::printf("%s", describe_safetensors(file).c_str());
    if (file.metadata().count(kAdapterSetMetadataKey)) std::printf("%s", describe_set(load_adapter_set(path)).c_str());
    return 0;
}

}  // namespace lorica::cli
