// lorica-cli: the headless front end (no LibTorch). It runs the commands that only read and write
// results, presets and configs itself (cli/core_commands.h: runs, show, export-results, metrics,
// config, presets, methods, merge, sweep), so they start in milliseconds, and hands every other
// command line to lorica-cli-engine (cli/main.cpp: run, inspect, export, --version, --help; the
// usage and exit codes are listed there) by executing it with the same arguments
// (cli/engine_executable.h).

#include <CLI/CLI.hpp>

#include "cli/core_commands.h"
#include "cli/engine_executable.h"
#include "cli/exit_codes.h"
#include "cli/parse_arguments.h"
#include "engine/util/log.h"
#include "engine/util/paths.h"

int main(int argc, char** argv) {
    CLI::App app{"lorica-cli: continual learning with low-rank adapters, headless"};
    app.require_subcommand(1);
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "debug logging on the console");
    lorica::cli::CoreCommands core(app);
    if (!lorica::cli::is_own_command_line(app, argc, argv)) return lorica::cli::exec_engine(argv);

    if (const int code = lorica::cli::parse_arguments(app, argc, argv); code >= 0) return code;
    lorica::log::setup(verbose, lorica::default_data_dir() + "/lorica-cli.log");
    return lorica::cli::exit_code_of_command([&] { return core.run(); });
}
