#pragma once
// Logging façade for engine code that includes LibTorch: LibTorch ships its own copy of {fmt}, which
// clashes with the {fmt} that Debian's spdlog is built against, so torch translation units log
// through these functions (implemented with spdlog in lorica_core) and never include spdlog.

#include <string>

namespace lorica::log {

void debug(const std::string& message);
void info(const std::string& message);
void warn(const std::string& message);
void error(const std::string& message);

}  // namespace lorica::log

namespace lorica::log {

// Console (stderr; debug level when `verbose`, else warnings) plus, when `log_file` is not empty and
// writable, a debug-level file. Safe to call more than once.
void setup(bool verbose, const std::string& log_file);

}  // namespace lorica::log
