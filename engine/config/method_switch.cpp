#include "engine/config/method_switch.h"

#include <algorithm>

namespace lorica {

std::string document_method_name(const nlohmann::json& document) {
    if (document.is_object()) {
        auto m = document.find("method");
        if (m != document.end() && m->is_object()) {
            auto n = m->find("name");
            if (n != m->end() && n->is_string()) return n->get<std::string>();
        }
    }
    return "sequential-lora";
}

bool sets_method_options(const std::string& key) {
    return key == "method" || key == "method.options" || key.rfind("method.options.", 0) == 0;
}

std::string drop_replaced_method_options(nlohmann::json& document, const std::string& previous_name,
                                         const std::vector<std::string>& override_keys) {
    const bool renamed = std::find(override_keys.begin(), override_keys.end(), "method.name") != override_keys.end();
    if (!renamed || std::any_of(override_keys.begin(), override_keys.end(), sets_method_options)) return {};
    const std::string name = document_method_name(document);
    if (name == previous_name || !document.is_object()) return {};
    auto m = document.find("method");
    if (m == document.end() || !m->is_object()) return {};
    auto options = m->find("options");
    if (options == m->end() || (options->is_object() && options->empty())) return {};
    const std::string dropped = options->dump();
    m->erase(options);
    return "method.name changed from '" + previous_name + "' to '" + name + "': the options of '" + previous_name +
           "' (" + dropped + ") were dropped; set method.options.* to give '" + name + "' options";
}

}  // namespace lorica
