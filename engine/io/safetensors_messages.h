#pragma once
// Error-message helpers shared by the safetensors reader and writer (safetensors_read.cpp,
// safetensors_write.cpp). Private to engine/io: not part of safetensors.h's API.

#include <string>

#include <nlohmann/json.hpp>

#include "engine/io/safetensors.h"

namespace lorica::safetensors_messages {

// A name or key, quoted and escaped as JSON (control characters and invalid UTF-8 cannot garble the
// message), and shortened to 200 characters plus "..." when longer. Never throws.
inline std::string quote(const std::string& text) {
    constexpr std::size_t kMaxShown = 200;
    const bool long_text = text.size() > kMaxShown;
    std::string quoted = nlohmann::json(long_text ? text.substr(0, kMaxShown) : text)
                             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (long_text) quoted.insert(quoted.size() - 1, "...");
    return quoted;
}

// Throws SafetensorsError("<file>: <message>").
[[noreturn]] inline void fail(const std::string& file, const std::string& message) {
    throw SafetensorsError(file + ": " + message);
}

}  // namespace lorica::safetensors_messages
