// lorica-cli's exit codes: an exception escaping a command or a run mapped to its code (exit_codes.h).

#include "cli/exit_codes.h"

#include <cstdio>
#include <exception>

namespace lorica::cli {

int exit_code_of_command(const std::function<int()>& command) {
    try {
        return command();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return kExitBadInput;
    }
}

int exit_code_of_run(const std::function<int()>& run) {
    try {
        return run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: the run failed: %s\n", e.what());
        return kExitRunFailed;
    }
}

}  // namespace lorica::cli
