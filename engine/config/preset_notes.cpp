#include "engine/config/preset_notes.h"

#include <algorithm>
#include <array>

#include "engine/config/experiment_config.h"

namespace lorica {

namespace {

constexpr std::array<const char*, 3> kRequirableFields = {"data.root", "data.file_list", "backbone.weights"};

}  // namespace

PresetNotes read_preset_notes(const nlohmann::json& document) {
    PresetNotes notes;
    if (!document.is_object()) return notes;
    if (auto it = document.find(kPresetDescriptionKey); it != document.end()) {
        if (!it->is_string()) throw ConfigError(kPresetDescriptionKey, "must be a string, got " + it->dump());
        notes.description = it->get<std::string>();
    }
    if (auto it = document.find(kPresetRequiresKey); it != document.end()) {
        if (!it->is_object())
            throw ConfigError(kPresetRequiresKey,
                              "must be an object {\"<field>\": \"<what must be there>\"}, got " + it->dump());
        for (auto r = it->begin(); r != it->end(); ++r) {
            const std::string field = std::string(kPresetRequiresKey) + "." + r.key();
            if (std::find_if(kRequirableFields.begin(), kRequirableFields.end(),
                             [&](const char* f) { return r.key() == f; }) == kRequirableFields.end())
                throw ConfigError(field, "cannot be required (allowed: data.root, data.file_list, backbone.weights)");
            if (!r->is_string() || r->get<std::string>().empty())
                throw ConfigError(
                    field, "must be a non-empty string saying what the file or folder must hold, got " + r->dump());
            notes.requirements.push_back({r.key(), r->get<std::string>()});
        }
    }
    return notes;
}

bool requirement_covers(const std::string& required_field, const std::string& problem_subject) {
    if (required_field == problem_subject) return true;
    return required_field == "data.root" && (problem_subject == "data.file_list" || problem_subject == "data.dataset");
}

}  // namespace lorica
