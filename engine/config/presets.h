#pragma once
// Shipped experiment presets (resources/presets/*.json) and how a front end assembles a config:
//
//   document = preset (or --config file)  →  --set key=value overrides  →  parse_experiment_config
//
// Presets are searched in: $LORICA_PRESET_DIR, <exe>/../share/lorica/presets, the install prefix's
// share/lorica/presets, and the source tree's resources/presets (for builds run in place).
// A preset only lists what differs from the built-in defaults (see experiment_config.h).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorica {

std::vector<std::string> preset_search_dirs();
// Names (file stems) of every preset found, sorted, first directory winning.
std::vector<std::string> list_presets();
// Path of preset `name`; throws ConfigError("--preset", ...) listing the available names.
std::string find_preset(const std::string& name);

// The one-line description of preset `name` (its "description" key, preset_notes.h); "" when it has
// none. Throws like find_preset / read_json_file.
std::string preset_description(const std::string& name);

// Reads a JSON document; throws ConfigError naming the file and the parser's position.
nlohmann::json read_json_file(const std::string& path);

// The assembled config document: `config_path` if given, else preset `preset` (default "default"),
// then each `overrides` entry ("key=value") applied in order. When the overrides change method.name,
// the previous method's options are dropped unless the overrides set method.options too
// (method_switch.h); `notes` says what was dropped, for the front end to print.
struct AssembledConfig {
    nlohmann::json document;
    std::vector<std::string> notes;
};
AssembledConfig assemble_config(const std::string& config_path, const std::string& preset,
                                const std::vector<std::string>& overrides);
// The same, document only (the notes are logged).
nlohmann::json assemble_config_document(const std::string& config_path, const std::string& preset,
                                        const std::vector<std::string>& overrides);

}  // namespace lorica
