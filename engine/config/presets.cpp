#include "engine/config/presets.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "engine/config/experiment_config.h"

namespace lorica {

namespace fs = std::filesystem;

std::vector<std::string> preset_search_dirs() {
    std::vector<std::string> dirs;
    if (const char* env = std::getenv("LORICA_PRESET_DIR"); env && *env) dirs.push_back(env);
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) dirs.push_back((exe.parent_path().parent_path() / "share" / "lorica" / "presets").string());
    dirs.push_back(LORICA_INSTALL_PRESET_DIR);
    dirs.push_back(LORICA_SOURCE_PRESET_DIR);
    return dirs;
}

std::vector<std::string> list_presets() {
    std::set<std::string> names;
    for (const auto& dir : preset_search_dirs()) {
        std::error_code ec;
        for (const auto& entry : fs::directory_iterator(dir, ec))
            if (entry.path().extension() == ".json") names.insert(entry.path().stem().string());
    }
    return {names.begin(), names.end()};
}

std::string find_preset(const std::string& name) {
    for (const auto& dir : preset_search_dirs()) {
        fs::path p = fs::path(dir) / (name + ".json");
        if (fs::exists(p)) return p.string();
    }
    std::string names;
    for (const auto& n : list_presets()) names += (names.empty() ? "" : ", ") + n;
    throw ConfigError("--preset", "no preset named '" + name + "' (available: " + (names.empty() ? "none found" : names) + ")");
}

nlohmann::json read_json_file(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError("", "cannot open config file '" + path + "'");
    try {
        return nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
        throw ConfigError("", "config file '" + path + "' is not valid JSON: " + e.what());
    }
}

nlohmann::json assemble_config_document(const std::string& config_path, const std::string& preset,
                                        const std::vector<std::string>& overrides) {
    nlohmann::json doc = config_path.empty() ? read_json_file(find_preset(preset.empty() ? "default" : preset))
                                             : read_json_file(config_path);
    for (const auto& o : overrides) apply_override(doc, o);
    return doc;
}

}  // namespace lorica
