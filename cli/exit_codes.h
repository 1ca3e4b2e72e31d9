#pragma once
// lorica-cli's exit codes, and the one place an exception that escapes a command becomes one. Shared
// by both programs (front_main.cpp, torch-free; main.cpp, LibTorch), so a failure exits and reads the
// same whichever of them ran the command. Part of lorica_cli_core: no LibTorch.
//
// Exit codes: 0 success; 1 a run failed while training (NaN loss, disk full) or was cancelled; 2 bad
// input (arguments, config fields, missing or malformed files), reported before anything runs.

#include <functional>

namespace lorica::cli {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitRunFailed = 1;
inline constexpr int kExitBadInput = 2;

// Runs `command` and returns its exit code. An exception derived from std::exception that escapes it
// (a ConfigError naming the field, a missing or malformed file, a bad database) is bad input: prints
// "error: <what>" on stderr and returns kExitBadInput.
int exit_code_of_command(const std::function<int()>& command);

// Runs `run`, a run past its preflight, and returns its exit code. An exception derived from
// std::exception that escapes it is a run that failed: prints "error: the run failed: <what>" on
// stderr and returns kExitRunFailed.
int exit_code_of_run(const std::function<int()>& run);

}  // namespace lorica::cli
