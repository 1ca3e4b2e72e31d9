#pragma once
// Method options against a check: the config of one method with given options, and which field (if
// any) a check refuses it by. Shared by the torch-free config check's test
// (unit/core/method_catalog_test.cpp, check = validate_method_config) and the methods' own parsers'
// test (unit/engine/method_option_schema_test.cpp, check = make_method), so both ask the same question
// of the same configs.

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "engine/config/experiment_config.h"

namespace lorica::testing {

// The default experiment config with method `method` and method options `options` (a JSON object).
inline ExperimentConfig config_for(const std::string& method, nlohmann::json options) {
    ExperimentConfig c;
    c.method.name = method;
    c.method.options = std::move(options);
    return c;
}

// The field of the ConfigError that `check(config_for(method, options))` throws ("method.name",
// "method.options.<name>", ...), or "" when the check accepts the options. `message`, when given,
// receives the error's text. Other exceptions pass through.
template <typename Check>
std::string refused_field(Check&& check, const std::string& method, const nlohmann::json& options,
                          std::string* message = nullptr) {
    try {
        check(config_for(method, options));
        return "";
    } catch (const ConfigError& e) {
        if (message) *message = e.what();
        return e.field();
    }
}

}  // namespace lorica::testing
