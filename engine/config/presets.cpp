#include "engine/config/presets.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "engine/config/experiment_config.h"
#include "engine/config/method_switch.h"
#include "engine/config/preset_notes.h"
#include "engine/util/log.h"

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
    throw ConfigError("--preset",
                      "no preset named '" + name + "' (available: " + (names.empty() ? "none found" : names) + ")");
}

std::string preset_description(const std::string& name) {
    return read_preset_notes(read_json_file(find_preset(name))).description;
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

AssembledConfig assemble_config(const std::string& config_path, const std::string& preset,
                                const std::vector<std::string>& overrides) {
    AssembledConfig out;
    out.document = config_path.empty() ? read_json_file(find_preset(preset.empty() ? "default" : preset))
                                       : read_json_file(config_path);
    if (!out.document.is_object())
        throw ConfigError("", "config " +
                                  (config_path.empty() ? "preset '" + preset + "'" : "file '" + config_path + "'") +
                                  " must hold a JSON object, got " + out.document.type_name());
    const std::string previous_method = document_method_name(out.document);
    std::vector<std::string> keys;
    for (const auto& o : overrides) {
        apply_override(out.document, o);
        keys.push_back(o.substr(0, o.find('=')));
    }
    if (std::string note = drop_replaced_method_options(out.document, previous_method, keys); !note.empty())
        out.notes.push_back(note);
    return out;
}

nlohmann::json assemble_config_document(const std::string& config_path, const std::string& preset,
                                        const std::vector<std::string>& overrides) {
    AssembledConfig assembled = assemble_config(config_path, preset, overrides);
    for (const auto& note : assembled.notes) log::info(note);
    return std::move(assembled.document);
}

}  // namespace lorica
