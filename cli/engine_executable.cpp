#include "cli/engine_executable.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

#include <unistd.h>

#include <CLI/CLI.hpp>

#ifndef LORICA_ENGINE_DIR_FROM_BIN
#define LORICA_ENGINE_DIR_FROM_BIN "../lib/lorica"
#endif

namespace lorica::cli {

namespace fs = std::filesystem;

bool is_own_command_line(const CLI::App& app, int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "-v" || arg == "--verbose") continue;
        if (arg.empty() || arg[0] == '-') return false;  // --help, --version, an unknown option: the engine's
        for (const CLI::App* sub : app.get_subcommands({}))
            if (sub->get_name() == arg) return true;
        return false;
    }
    return false;
}

fs::path engine_executable() {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    if (ec) throw std::runtime_error("cannot find this program's path (/proc/self/exe): " + ec.message());
    const fs::path candidates[] = {
        self.parent_path() / kEngineProgram,
        (self.parent_path() / LORICA_ENGINE_DIR_FROM_BIN / kEngineProgram).lexically_normal()};
    for (const fs::path& p : candidates)
        if (access(p.c_str(), X_OK) == 0) return p;
    throw std::runtime_error(std::string("cannot find ") + kEngineProgram + ", which runs this command (looked for " +
                             candidates[0].string() + " and " + candidates[1].string() + "): reinstall Lorica");
}

int exec_engine(char** argv) {
    try {
        const fs::path engine = engine_executable();
        execv(engine.c_str(), argv);
        std::fprintf(stderr, "error: cannot start %s: %s\n", engine.c_str(), std::strerror(errno));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
    }
    return 2;
}

}  // namespace lorica::cli
