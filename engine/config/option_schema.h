#pragma once
// The declaration of a method's options (`method.options`): one list per registered method, read by
// the method's parser (OptionReader below), printed by `lorica-cli methods --options`, and turned
// into the GUI's typed editors and tooltips. A name, type, default, range or doc is written once,
// here in the method's file, and nowhere else.
//
//   static const MethodOptionSchema schema{{
//       choice_option("handover", kSDLoRAHandoverNames, SDLoRAHandover::rescale, "how a task's update ..."),
//       number_option("magnitude_init", 1.0, 1e-6, 1e6, "", "initial α_t of each task").paper(1.0),
//   }};
//   OptionReader r(schema, config.method.options);
//   r.read("handover", o.handover, kSDLoRAHandoverNames);  // absent → the declared default
//   r.finish();  // unknown names → ConfigError naming method.options.<name>; a declared option the
//                // parser never read → std::logic_error (the declaration and the parser disagree)

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/enum_names.h"
#include "engine/config/experiment_config.h"

namespace lorica {

enum class OptionType { boolean, integer, number, choice, rank_schedule };

// "boolean", "integer", "number", "choice", "rank schedule".
std::string type_name(OptionType type);

struct OptionSpec {
    std::string name;
    OptionType type = OptionType::number;
    nlohmann::json default_value;      // the value an absent option takes; null = derived (see doc)
    std::vector<std::string> choices;  // choice: the allowed spellings
    double min = 0.0, max = 0.0;       // integer, number: the inclusive range
    std::string unit;                  // e.g. "steps"; "" when unitless
    std::string doc;                   // one line: what it does, and what a null default derives from
    nlohmann::json paper_value;        // the paper's value where it differs from the default (null = same)

    OptionSpec& paper(nlohmann::json value) {
        paper_value = std::move(value);
        return *this;
    }
};

OptionSpec bool_option(std::string name, bool default_value, std::string doc);
OptionSpec integer_option(std::string name, int64_t default_value, int64_t min, int64_t max, std::string unit,
                          std::string doc);
OptionSpec number_option(std::string name, nlohmann::json default_value, double min, double max, std::string unit,
                         std::string doc);
// A list of [first_task, rank] pairs, first_task ascending from 0, rank in [1, 4096].
OptionSpec rank_schedule_option(std::string name, std::vector<std::pair<int, int>> default_value, std::string doc);

template <class E, std::size_t N>
OptionSpec choice_option(std::string name, const EnumNames<E, N>& names, nlohmann::json default_value,
                         std::string doc) {
    OptionSpec s;
    s.name = std::move(name);
    s.type = OptionType::choice;
    s.default_value = std::move(default_value);
    for (const auto& [value, spelling] : names) s.choices.emplace_back(spelling);
    s.doc = std::move(doc);
    return s;
}
template <class E, std::size_t N>
OptionSpec choice_option(std::string name, const EnumNames<E, N>& names, E default_value, std::string doc) {
    return choice_option(std::move(name), names, nlohmann::json(name_of(names, default_value)), std::move(doc));
}

struct MethodOptionSchema {
    std::vector<OptionSpec> options;
    const OptionSpec* find(const std::string& name) const;
};

// [{name, type, default, choices?, min?, max?, unit?, doc, paper?}, ...] (for --format json and the GUI).
nlohmann::json option_schema_json(const MethodOptionSchema& schema);

// Reads one `method.options` object through its schema: types, ranges and choices come from the
// declaration, and so does the value of an absent option.
class OptionReader {
public:
    OptionReader(const MethodOptionSchema& schema, const nlohmann::json& options, std::string path = "method.options");

    bool given(const std::string& name) const;  // the user wrote this option
    std::string field(const std::string& name) const { return path_ + "." + name; }

    void read(const std::string& name, bool& out);
    void read(const std::string& name, int& out);
    void read(const std::string& name, double& out);  // a null default leaves `out` as it is when absent
    void read_rank_schedule(const std::string& name, std::vector<std::pair<int, int>>& out);
    template <class E, std::size_t N>
    void read(const std::string& name, E& out, const EnumNames<E, N>& names) {
        const nlohmann::json* v = value(name, OptionType::choice);
        if (!v) return;
        if (!v->is_string()) throw ConfigError(field(name), "must be a string, got " + v->dump());
        const std::optional<E> e = value_of(names, v->get<std::string>());
        if (!e)
            throw ConfigError(field(name),
                              "'" + v->get<std::string>() + "' is not allowed (allowed: " + allowed_names(names) + ")");
        out = *e;
    }

    void finish() const;

private:
    // The given value, else the declared default; nullptr for a null default. Marks `name` as read.
    const nlohmann::json* value(const std::string& name, OptionType type);

    const MethodOptionSchema& schema_;
    const nlohmann::json& options_;
    std::string path_;
    std::vector<std::string> read_;
};

}  // namespace lorica
