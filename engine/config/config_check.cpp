#include "engine/config/config_check.h"

#include "engine/config/experiment_variants.h"
#include "engine/methods/catalog/method_catalog.h"

namespace lorica {
namespace {

std::string compose(const std::vector<PreflightProblem>& problems) {
    std::string out = "cannot start the experiment: " + std::to_string(problems.size()) +
                      (problems.size() == 1 ? " problem" : " problems") + " (nothing was run or stored)";
    for (const auto& p : problems) out += "\n  - " + p.subject + ": " + p.message;
    return out;
}

// The top-level config section a subject belongs to: "train" for "train.optimizer.lr",
// "variants" for "variants[2].set.method.rank".
std::string section_of(const std::string& subject) {
    const auto end = subject.find_first_of(".[");
    return subject.substr(0, end);
}

// Drops the field a ConfigError named from the document, so that parsing again reaches the next
// problem. Returns false when nothing could be dropped (the error would repeat).
bool drop_field(nlohmann::json& doc, const std::string& field) {
    if (field.empty() || !doc.is_object()) return false;
    const std::string section = section_of(field);
    if (section == "variants" || section == "sweep") return doc.erase(section) > 0;  // all variants at once
    nlohmann::json* node = &doc;
    size_t start = 0;
    while (true) {
        size_t dot = field.find('.', start);
        std::string part = field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        const auto bracket = part.find('[');
        const bool last = dot == std::string::npos || bracket != std::string::npos;
        if (bracket != std::string::npos) part = part.substr(0, bracket);  // "domains[3]": the whole list
        if (!node->is_object() || !node->contains(part)) return false;
        if (last) {
            node->erase(part);
            // An unknown method's options were written for that method: they go with its name.
            if (field == "method.name" && node->contains("options")) node->erase("options");
            return true;
        }
        node = &(*node)[part];
        start = dot + 1;
    }
}

}  // namespace

PreflightError::PreflightError(std::vector<PreflightProblem> problems)
    : std::runtime_error(compose(problems)), problems_(std::move(problems)) {}

void ConfigProblems::add(std::string subject, std::string message) {
    for (const auto& p : list_)
        if (p.subject == subject && p.message == message) return;  // variants sharing a section
    list_.push_back({std::move(subject), std::move(message)});
}

bool ConfigProblems::touches(std::initializer_list<const char*> sections) const {
    for (const auto& p : list_)
        for (const char* s : sections)
            if (section_of(p.subject) == s) return true;
    return false;
}

std::string without_field_prefix(const ConfigError& e) {
    std::string message = e.what();
    const std::string prefix = "config field '" + e.field() + "': ";
    if (!e.field().empty() && message.rfind(prefix, 0) == 0) message = message.substr(prefix.size());
    return message;
}

ConfigCheck check_config(nlohmann::json doc) {
    ConfigCheck out;
    for (int i = 0; i < kMaxConfigProblems; ++i) {
        try {
            ExperimentConfig config = parse_experiment_config(doc);
            validate_experiment(config);
            out.config = std::move(config);
            return out;
        } catch (const ConfigError& e) {
            out.problems.add(e.field().empty() ? "config" : e.field(), without_field_prefix(e));
            if (!drop_field(doc, e.field())) return out;
        } catch (const std::exception& e) {
            out.problems.add("method", e.what());
            return out;
        }
    }
    out.problems.add("config", "more than " + std::to_string(kMaxConfigProblems) + " problems; fix these first");
    return out;
}

void validate_experiment(const ExperimentConfig& config) {
    if (!has_variants(config)) {
        validate_method_config(config);
        return;
    }
    for (const ExperimentVariant& v : expand_variants(config)) {
        try {
            validate_method_config(v.config);
        } catch (const ConfigError& e) {
            rethrow_for_variant(v, e);
        }
    }
}

ExperimentConfig preflight_config(const nlohmann::json& document) {
    ConfigCheck check = check_config(document);
    // A bad field is dropped to reach the next problem, so a config can parse with problems found.
    if (!check.config || !check.problems.empty()) throw PreflightError(check.problems.take());
    return *check.config;
}

}  // namespace lorica
