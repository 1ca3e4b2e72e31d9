#pragma once
// The ConfigError a config document raises (a test failure, and an empty error, when it raises none).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"

namespace lorica::testing {

inline ConfigError config_error_of(const nlohmann::json& doc) {
    try {
        parse_experiment_config(doc);
    } catch (const ConfigError& e) {
        return e;
    }
    ADD_FAILURE() << "no ConfigError for " << doc.dump();
    return ConfigError("", "");
}

}  // namespace lorica::testing
