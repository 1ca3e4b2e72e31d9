#include "engine/config/preset_notes.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

#include "engine/config/experiment_config.h"

namespace lorica {

namespace {

constexpr std::array<const char*, 4> kRequirableFields = {"data.root", "data.file_list", "backbone.weights",
                                                          "foundation.data.root"};

// "stream.datasets[<i>].root" → i; nullopt for anything else.
std::optional<size_t> dataset_root_index(const std::string& field) {
    const std::string prefix = "stream.datasets[", suffix = "].root";
    if (field.size() <= prefix.size() + suffix.size() || field.rfind(prefix, 0) != 0 ||
        field.compare(field.size() - suffix.size(), suffix.size(), suffix) != 0)
        return std::nullopt;
    const std::string digits = field.substr(prefix.size(), field.size() - prefix.size() - suffix.size());
    if (digits.empty() || digits.size() > 4 || !std::all_of(digits.begin(), digits.end(), ::isdigit))
        return std::nullopt;
    return static_cast<size_t>(std::stoul(digits));
}

bool requirable(const std::string& field) {
    return dataset_root_index(field).has_value() ||
           std::find_if(kRequirableFields.begin(), kRequirableFields.end(),
                        [&](const char* f) { return field == f; }) != kRequirableFields.end();
}

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
            if (!requirable(r.key()))
                throw ConfigError(field,
                                  "cannot be required (allowed: data.root, data.file_list, backbone.weights, "
                                  "foundation.data.root, stream.datasets[<i>].root)");
            if (!r->is_string() || r->get<std::string>().empty())
                throw ConfigError(
                    field, "must be a non-empty string saying what the file or folder must hold, got " + r->dump());
            notes.requirements.push_back({r.key(), r->get<std::string>()});
        }
    }
    return notes;
}

std::optional<std::string> required_field_value(const ExperimentConfig& c, const std::string& field) {
    if (field == "data.root") return c.data.root;
    if (field == "data.file_list") return c.data.file_list;
    if (field == "backbone.weights") return c.backbone.weights;
    if (field == "foundation.data.root") return c.foundation.data.root;
    if (const auto i = dataset_root_index(field); i && *i < c.stream.datasets.size()) return c.stream.datasets[*i].root;
    return std::nullopt;
}

bool requirement_covers(const std::string& required_field, const std::string& problem_subject) {
    if (required_field == problem_subject) return true;
    return required_field == "data.root" && (problem_subject == "data.file_list" || problem_subject == "data.dataset");
}

}  // namespace lorica
