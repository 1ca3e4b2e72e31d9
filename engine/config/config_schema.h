#pragma once
// The declaration of the experiment config's fields (experiment_config.h): for every leaf field of the
// document, its JSON key path, type, range or choices, unit, one-line doc and readable label. The
// parser (parse_experiment_config) takes each field's range and choices from here, the set-up panel
// builds its editors, labels and tooltips from here, and `lorica-cli config --fields` prints it: a
// range or a spelling is written once. Method options are declared per method (option_schema.h).
// Torch-free.
//
//   const ConfigFieldSpec& f = config_field("train.optimizer.lr");
//   f.type == ConfigFieldType::number; f.min == 0; f.max == 10; f.label == "Learning rate"
//   config_field("train.loss").choices == {"current-task", "all-seen"}   // kLossScopeNames
//
// Defaults are not declared here: they are the initialisers of the structs in experiment_config.h
// (full_config_json(ExperimentConfig{}) gives every field at its default).

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/enum_names.h"
#include "engine/config/experiment_config.h"

namespace lorica {

enum class ConfigFieldType {
    boolean,
    integer,
    number,
    text,          // free text (a path, a name); `choices`, when given, are suggestions
    choice,        // one of `choices`
    integer_list,  // a JSON list of integers, each in [min, max]
    number_list,   // a JSON list of numbers, each in [min, max]
    text_list,     // a JSON list of strings
    choice_list,   // a JSON list, each entry one of `choices`
};

// "boolean", "integer", "number", "text", "choice", "list of integers", "list of numbers",
// "list of text", "list of choices".
std::string type_name(ConfigFieldType type);

// No upper bound (a count limited only by the data).
inline constexpr double kNoMaximum = std::numeric_limits<double>::infinity();

struct ConfigFieldSpec {
    std::string path;  // dotted JSON key path: "train.optimizer.lr"
    ConfigFieldType type = ConfigFieldType::text;
    std::string label;                 // readable: "Learning rate"
    std::string doc;                   // one line: what it does, and what 0 / empty means
    std::vector<std::string> choices;  // choice, choice_list: the allowed spellings; text: suggestions
    double min = 0.0, max = 0.0;       // integer, number and their lists: inclusive range
    std::string unit;                  // "px", "steps", "MiB"; "" when unitless
    bool nullable = false;             // null is a value too (stream.class_order_seed: the run's seed)

    // The section: "train" for "train.optimizer.lr", "" for a top-level field.
    std::string section() const;
    // The range as text: "[0, 10]", "[1, ∞)"; "" for fields without one.
    std::string range_text() const;
};

// Every field of the config, section by section (top level, data, foundation, stream, backbone,
// method, train, eval). method.options is not here: the method's own declaration (option_schema.h)
// covers it.
const std::vector<ConfigFieldSpec>& config_fields();
// The field at `path`, or nullptr.
const ConfigFieldSpec* find_config_field(std::string_view path);
// The field at `path`; std::logic_error when it is not declared (a parser/declaration mismatch).
const ConfigFieldSpec& config_field(std::string_view path);

// The config as a document with every declared field, including those to_json leaves out at their
// defaults (data.workers, data.cache_mb): what an editor of every field starts from.
nlohmann::json full_config_json(const ExperimentConfig& config);

// [{path, type, label, doc, choices?, min?, max?, unit?, nullable?}, ...] (lorica-cli config --fields).
nlohmann::json config_fields_json();
// One line per field: "train.optimizer.lr  number [0, 10]  Learning rate: ...".
std::string config_fields_text();

}  // namespace lorica
