#pragma once
// `lorica-cli methods [--options] [--format text|json]`: the registered adapter methods, and with
// --options every method's options as declared (engine/config/option_schema.h): type, default, range
// or choices, unit, doc and the paper's value where it differs.

#include <string>

namespace lorica::cli {

// Prints to stdout; returns the exit code (2 for an unknown format).
int command_methods(bool with_options, const std::string& format);

}  // namespace lorica::cli
