#include "cli/methods_command.h"

#include <cstdint>
#include <cstdio>
#include <sstream>

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

}  // namespace

int command_methods(bool with_options, const std::string& format) {
    const auto catalog = method_catalog();
    if (format == "json") {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& m : catalog) {
            nlohmann::json j = {{"name", m.name}, {"summary", m.summary}};
            if (with_options) j["options"] = option_schema_json(m.options);
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
        if (m.options.options.empty()) std::printf("    (no options)\n");
        for (const auto& o : m.options.options) {
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
