#pragma once
// Dotted key paths into a config document ("train.optimizer.lr" → document["train"]["optimizer"]["lr"]),
// as the set-up panel and `--set key=value` name fields (engine/config/config_schema.h declares them).

#include <string>
#include <vector>

#include <QString>
#include <nlohmann/json.hpp>

namespace lorica::app {

// "train.optimizer.lr" → {"train", "optimizer", "lr"}.
std::vector<std::string> split_json_path(const std::string& path);
// Sets the value at a dotted path inside a JSON object, creating objects on the way.
void set_json_path(nlohmann::json& document, const std::string& path, nlohmann::json value);
// The value at a dotted path, or null.
nlohmann::json get_json_path(const nlohmann::json& document, const std::string& path);
// A value as an editor shows it: a string without quotes, null as "", anything else as JSON text.
QString json_value_text(const nlohmann::json& value);

}  // namespace lorica::app
