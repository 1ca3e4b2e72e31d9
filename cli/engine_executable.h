#pragma once
// How lorica-cli (torch-free) hands a command line to lorica-cli-engine (LibTorch), and which command
// lines it keeps.
//
// lorica-cli runs a command line itself when it is `[-v|--verbose]... COMMAND ...` with COMMAND one of
// its own (cli/core_commands.h); every other command line (run, inspect, export, a command added to
// the engine later, --version, --help, none, an unknown command) is the engine's. It replaces itself
// with the engine (execv, same argv and environment), so the engine's exit code, signals, stdin and
// stdout are the command's own, and LORICA_TORCH_LIB is handled there (engine/runtime/torch_library.h).
//
// The engine is looked for next to this program (the build tree: build/lorica-cli and
// build/lorica-cli-engine), then in LORICA_ENGINE_DIR_FROM_BIN relative to it (installed: bin/ and
// lib/lorica/, the Debian package's /usr/lib/lorica/).

#include <filesystem>

namespace CLI {
class App;
}

namespace lorica::cli {

inline constexpr const char* kEngineProgram = "lorica-cli-engine";

// Whether argv is `[-v|--verbose]... COMMAND ...` with COMMAND a subcommand of `app`.
bool is_own_command_line(const CLI::App& app, int argc, char** argv);

// The engine beside this program, or in its installed place; throws std::runtime_error naming the
// places looked in when neither holds it.
std::filesystem::path engine_executable();

// Executes the engine with argv. Returns only when that fails: prints the error, returns 2.
int exec_engine(char** argv);

}  // namespace lorica::cli
