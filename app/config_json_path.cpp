#include "app/config_json_path.h"

namespace lorica::app {

std::vector<std::string> split_json_path(const std::string& path) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = path.find('.', start);
        parts.push_back(path.substr(start, dot - start));
        if (dot == std::string::npos) break;
        start = dot + 1;
    }
    return parts;
}

void set_json_path(nlohmann::json& document, const std::string& path, nlohmann::json value) {
    nlohmann::json* node = &document;
    for (const std::string& part : split_json_path(path)) {
        if (!node->is_object()) *node = nlohmann::json::object();
        node = &(*node)[part];
    }
    *node = std::move(value);
}

nlohmann::json get_json_path(const nlohmann::json& document, const std::string& path) {
    const nlohmann::json* node = &document;
    for (const std::string& part : split_json_path(path)) {
        if (!node->is_object() || !node->contains(part)) return nullptr;
        node = &(*node)[part];
    }
    return *node;
}

QString json_value_text(const nlohmann::json& value) {
    if (value.is_string()) return QString::fromStdString(value.get<std::string>());
    if (value.is_null()) return {};
    return QString::fromStdString(value.dump());
}

}  // namespace lorica::app
