#include "engine/config/option_schema.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace lorica {
namespace {

std::string join_names(const MethodOptionSchema& schema) {
    std::string out;
    for (const auto& o : schema.options) out += (out.empty() ? "" : ", ") + o.name;
    return out.empty() ? std::string("none") : out;
}

std::string range_text(const OptionSpec& s) {
    std::ostringstream os;
    os << "[" << s.min << ", " << s.max << "]";
    return os.str();
}

}  // namespace

std::string type_name(OptionType type) {
    switch (type) {
        case OptionType::boolean:
            return "boolean";
        case OptionType::integer:
            return "integer";
        case OptionType::number:
            return "number";
        case OptionType::choice:
            return "choice";
        case OptionType::rank_schedule:
            return "rank schedule";
    }
    return "?";
}

OptionSpec bool_option(std::string name, bool default_value, std::string doc) {
    OptionSpec s;
    s.name = std::move(name);
    s.type = OptionType::boolean;
    s.default_value = default_value;
    s.doc = std::move(doc);
    return s;
}

OptionSpec integer_option(std::string name, int64_t default_value, int64_t min, int64_t max, std::string unit,
                          std::string doc) {
    OptionSpec s;
    s.name = std::move(name);
    s.type = OptionType::integer;
    s.default_value = default_value;
    s.min = static_cast<double>(min);
    s.max = static_cast<double>(max);
    s.unit = std::move(unit);
    s.doc = std::move(doc);
    return s;
}

OptionSpec number_option(std::string name, nlohmann::json default_value, double min, double max, std::string unit,
                         std::string doc) {
    OptionSpec s;
    s.name = std::move(name);
    s.type = OptionType::number;
    s.default_value = std::move(default_value);
    s.min = min;
    s.max = max;
    s.unit = std::move(unit);
    s.doc = std::move(doc);
    return s;
}

OptionSpec rank_schedule_option(std::string name, std::vector<std::pair<int, int>> default_value, std::string doc) {
    OptionSpec s;
    s.name = std::move(name);
    s.type = OptionType::rank_schedule;
    s.default_value = nlohmann::json::array();
    for (const auto& [first, rank] : default_value) s.default_value.push_back({first, rank});
    s.min = 1;
    s.max = 4096;
    s.doc = std::move(doc);
    return s;
}

const OptionSpec* MethodOptionSchema::find(const std::string& name) const {
    for (const auto& o : options)
        if (o.name == name) return &o;
    return nullptr;
}

nlohmann::json option_schema_json(const MethodOptionSchema& schema) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& o : schema.options) {
        nlohmann::json j = {
            {"name", o.name}, {"type", type_name(o.type)}, {"default", o.default_value}, {"doc", o.doc}};
        if (o.type == OptionType::choice) j["choices"] = o.choices;
        if (o.type == OptionType::integer || o.type == OptionType::number) {
            j["min"] = o.min;
            j["max"] = o.max;
        }
        if (!o.unit.empty()) j["unit"] = o.unit;
        if (!o.paper_value.is_null()) j["paper"] = o.paper_value;
        out.push_back(std::move(j));
    }
    return out;
}

OptionReader::OptionReader(const MethodOptionSchema& schema, const nlohmann::json& options, std::string path)
    : schema_(schema), options_(options), path_(std::move(path)) {
    if (!options_.is_object()) throw ConfigError(path_, "must be an object, got " + std::string(options_.type_name()));
}

bool OptionReader::given(const std::string& name) const { return options_.contains(name); }

const nlohmann::json* OptionReader::value(const std::string& name, OptionType type) {
    const OptionSpec* spec = schema_.find(name);
    if (!spec || spec->type != type)
        throw std::logic_error("method option '" + name + "' is read as a " + type_name(type) +
                               " but not declared so in its schema");
    if (std::find(read_.begin(), read_.end(), name) == read_.end()) read_.push_back(name);
    auto it = options_.find(name);
    const nlohmann::json* v = it != options_.end() ? &*it : &spec->default_value;
    if (v->is_null()) {
        if (it != options_.end())
            throw ConfigError(field(name),
                              "must be a " + type_name(type) + ", got null (leave it out for the default)");
        return nullptr;
    }
    if (type == OptionType::choice && v->is_string() &&
        std::find(spec->choices.begin(), spec->choices.end(), v->get<std::string>()) == spec->choices.end()) {
        std::string allowed;
        for (const auto& c : spec->choices) allowed += (allowed.empty() ? "" : ", ") + c;
        throw ConfigError(field(name), "'" + v->get<std::string>() + "' is not allowed (allowed: " + allowed + ")");
    }
    return v;
}

void OptionReader::read(const std::string& name, bool& out) {
    const nlohmann::json* v = value(name, OptionType::boolean);
    if (!v) return;
    if (!v->is_boolean()) throw ConfigError(field(name), "must be true or false, got " + v->dump());
    out = v->get<bool>();
}

void OptionReader::read(const std::string& name, int& out) {
    const nlohmann::json* v = value(name, OptionType::integer);
    if (!v) return;
    const OptionSpec& s = *schema_.find(name);
    if (!v->is_number_integer()) throw ConfigError(field(name), "must be an integer, got " + v->dump());
    const bool too_big = v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(s.max);
    const int64_t x = too_big ? 0 : v->get<int64_t>();
    if (too_big || static_cast<double>(x) < s.min || static_cast<double>(x) > s.max)
        throw ConfigError(field(name), "must be an integer in " + range_text(s) + ", got " + v->dump());
    out = static_cast<int>(x);
}

void OptionReader::read(const std::string& name, double& out) {
    const nlohmann::json* v = value(name, OptionType::number);
    if (!v) return;
    const OptionSpec& s = *schema_.find(name);
    if (!v->is_number()) throw ConfigError(field(name), "must be a number, got " + v->dump());
    const double x = v->get<double>();
    if (!std::isfinite(x) || x < s.min || x > s.max)
        throw ConfigError(field(name), "must be a finite number in " + range_text(s) + ", got " + v->dump());
    out = x;
}

void OptionReader::read_rank_schedule(const std::string& name, std::vector<std::pair<int, int>>& out) {
    const nlohmann::json* v = value(name, OptionType::rank_schedule);
    if (!v) return;
    const std::string f = field(name);
    const std::string form =
        "must be a list of [first_task, rank] pairs with first_task ascending from 0 and rank ≥ 1, "
        "e.g. [[0,10],[4,8],[8,6]]";
    if (!v->is_array()) throw ConfigError(f, form + ", got " + v->dump());
    std::vector<std::pair<int, int>> schedule;
    for (size_t i = 0; i < v->size(); ++i) {
        const nlohmann::json& e = (*v)[i];
        const std::string at = f + "[" + std::to_string(i) + "]";
        if (!e.is_array() || e.size() != 2 || !e[0].is_number_integer() || !e[1].is_number_integer())
            throw ConfigError(at, form + ", got " + e.dump());
        const int64_t first = e[0].get<int64_t>(), rank = e[1].get<int64_t>();
        if (rank < 1 || rank > 4096) throw ConfigError(at, "rank must be in [1, 4096], got " + std::to_string(rank));
        if (i == 0 && first != 0)
            throw ConfigError(at, "the first entry must start at task 0, got " + std::to_string(first));
        if (i > 0 && first <= schedule.back().first)
            throw ConfigError(at, "first_task must be ascending, got " + std::to_string(first) + " after " +
                                      std::to_string(schedule.back().first));
        if (first > 1000000) throw ConfigError(at, "first_task must be at most 1000000, got " + std::to_string(first));
        schedule.emplace_back(static_cast<int>(first), static_cast<int>(rank));
    }
    out = schedule;
}

void OptionReader::finish() const {
    for (auto it = options_.begin(); it != options_.end(); ++it)
        if (!schema_.find(it.key()))
            throw ConfigError(field(it.key()), "unknown field (allowed here: " + join_names(schema_) + ")");
    for (const auto& o : schema_.options)
        if (std::find(read_.begin(), read_.end(), o.name) == read_.end())
            throw std::logic_error("method option '" + o.name + "' is declared but its parser never reads it");
}

}  // namespace lorica
