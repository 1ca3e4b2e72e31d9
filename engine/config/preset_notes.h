#pragma once
// What a shipped preset says about itself beside its config: a one-line description, and what it
// needs from the user's files.
//
//   "description": "SD-LoRA, ViT-B/16, CUB-200 10 tasks × 20 classes; optimizer from ...",
//   "requires": {
//     "data.root": "the CUB-200 layout <root>/train/<class>/*.jpg and <root>/test/<class>/*.jpg ...",
//     "backbone.weights": "a timm vit_base_patch16_224 safetensors file ..."
//   }
//
// Both keys are optional top-level keys of any config document; parse_experiment_config accepts them
// and they are not part of the effective config (to_json drops them, so they never change a run's
// config hash). `lorica-cli presets` prints each preset's description. Preflight (train/preflight.h)
// uses `requires`: a required field left empty is a problem naming the field and what it expects, and
// every problem of that field (a missing folder, a wrong layout, a file that does not load) has the
// expected layout appended, so the message tells the user both the path and what belongs there.
//
// Fields a preset may require: data.root, data.file_list, backbone.weights, foundation.data.root and
// stream.datasets[<i>].root (the paths a user points at their own files).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace lorica {

inline constexpr const char* kPresetDescriptionKey = "description";
inline constexpr const char* kPresetRequiresKey = "requires";

struct PresetRequirement {
    std::string
        field;  // "data.root" | "data.file_list" | "backbone.weights" | "foundation.data.root" | "stream.datasets[<i>].root"
    std::string expected;  // what must be there, in words (layout, file names, where to get it)
};

struct PresetNotes {
    std::string description;                      // "" when the document has none
    std::vector<PresetRequirement> requirements;  // by field name (nlohmann::json sorts keys)
};

// Reads the two keys of a config document (both optional). Throws ConfigError naming "description"
// (not a string), "requires" (not an object) or "requires.<field>" (a field that cannot be required,
// or an expectation that is not a non-empty string).
PresetNotes read_preset_notes(const nlohmann::json& document);

// The config fields a requirement about `field` covers in preflight problems: data.root also covers
// data.file_list and data.dataset (the loader reports a missing root under whichever names the data).
bool requirement_covers(const std::string& required_field, const std::string& problem_subject);

struct ExperimentConfig;
// The configured value of a requirable field (the path the user set, "" when left empty); nullopt for
// a field that cannot be required or a stream.datasets index past the stream.
std::optional<std::string> required_field_value(const ExperimentConfig& config, const std::string& field);

}  // namespace lorica
