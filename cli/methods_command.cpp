#include "cli/methods_command.h"

#include <cstdint>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/methods/catalog/method_catalog.h"

namespace lorica::cli {
namespace {

std::string allowed_text(const OptionSpec& o) {
    if (o.type == OptionType::choice) {
        std::string out;
        for (const auto& c : o.choices) out += (out.empty() ? "" : " | ") + c;
        return out;
    }
    if (o.type == OptionType::integer || o.type == OptionType::number) {
        std::ostringstream os;
        if (o.type == OptionType::integer)
            os << "[" << static_cast<int64_t>(o.min) << ", " << static_cast<int64_t>(o.max) << "]";
        else
            os << "[" << o.min << ", " << o.max << "]";
        return os.str() + (o.unit.empty() ? "" : " " + o.unit);
    }
    if (o.type == OptionType::rank_schedule) return "[[first_task, rank], ...]";
    return "true | false";
}

std::vector<std::string> state_names(const MethodDeclaration& m) {
    std::vector<std::string> out;
    for (StateKey k : m.state) out.emplace_back(name_of(k));
    for (AnalysisKey k : m.analyses) out.emplace_back(name_of(k));
    return out;
}

std::vector<std::string> family_names(const MethodDeclaration& m) {
    std::vector<std::string> out;
    for (BackboneFamily f : m.backbones) out.emplace_back(name_of(kBackboneFamilyNames, f));
    return out;
}

std::string joined(const std::vector<std::string>& items) {
    std::string out;
    for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
    return out.empty() ? "-" : out;
}

}  // namespace

int command_methods(bool with_options, const std::string& format) {
    const auto& catalog = method_declarations();
    if (format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : catalog) {
            nlohmann::json j = {{"name", m.name},
                                {"summary", m.summary},
                                {"records", state_names(m)},
                                {"per_task_terms", m.per_task_terms},
                                {"backbones", family_names(m)},
                                {"presets", m.presets}};
            if (with_options) j["options"] = option_schema_json(*m.options);
            out.push_back(std::move(j));
        }
        std::printf("%s\n", out.dump(2).c_str());
        return 0;
    }
    if (format != "text") {
        std::fprintf(stderr, "error: --format '%s' is not allowed (allowed: text, json)\n", format.c_str());
        return 2;
    }
    for (const auto& m : catalog) {
        std::printf("%-18s %s\n", m.name.c_str(), m.summary.c_str());
        if (!with_options) continue;
        std::printf("    records: %s; per-task terms: %s; backbones: %s\n", joined(state_names(m)).c_str(),
                    m.per_task_terms ? "yes" : "no", joined(family_names(m)).c_str());
        std::printf("    presets: %s\n", joined(m.presets).c_str());
        if (m.options->options.empty()) std::printf("    (no options)\n");
        for (const auto& o : m.options->options) {
            const std::string def = o.default_value.is_null() ? "derived" : o.default_value.dump();
            std::printf("    %-22s %-13s default %-12s %s\n", o.name.c_str(), type_name(o.type).c_str(), def.c_str(),
                        allowed_text(o).c_str());
            std::printf("    %-22s %s%s\n", "", o.doc.c_str(),
                        o.paper_value.is_null() ? "" : (" (paper: " + o.paper_value.dump() + ")").c_str());
        }
        if (with_options) std::printf("\n");
    }
    return 0;
}

}  // namespace lorica::cli
