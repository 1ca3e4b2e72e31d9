#pragma once
// The device the device-taking engine tests run on: $LORICA_TEST_DEVICE ("cpu", "cuda", "cuda:N",
// "auto"), default "cpu". bench/device/check.sh runs the engine tests with LORICA_TEST_DEVICE=cuda.

#include <cstdlib>
#include <string>

namespace lorica::testing {

inline std::string test_device() {
    const char* env = std::getenv("LORICA_TEST_DEVICE");
    return env && *env ? std::string(env) : std::string("cpu");
}

}  // namespace lorica::testing
