#pragma once
// The commands of lorica-cli that need no LibTorch: runs, show, export-results, metrics, config,
// presets, methods, merge and sweep (whose jobs run as `lorica-cli run --job`). They read the results
// store, the presets and the config catalogue (lorica_core) and start in a few milliseconds.
//
// Both binaries add them to their command line: lorica-cli (cli/front_main.cpp, links lorica_core
// only) runs them itself and hands every other command line to lorica-cli-engine (cli/main.cpp,
// LibTorch: run, export, inspect, --version, --help), which adds them too so that its --help and its
// list of commands are complete. docs/cli-start.md.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/merge_command.h"
#include "cli/runs_command.h"
#include "cli/sweep_command.h"

namespace CLI {
class App;
}

namespace lorica::cli {

class CoreCommands {
public:
    // Adds the subcommands and their options to `app`.
    explicit CoreCommands(CLI::App& app);

    // True when the command line selected one of them.
    bool selected() const;
    // Runs the selected one; returns the exit code. Bad input: prints the error and returns 2, or throws
    // (ConfigError, std::exception) for the caller to print with exit code 2.
    int run();

private:
    int show() const;
    int metrics() const;
    int config() const;

    CLI::App* show_ = nullptr;
    CLI::App* export_results_ = nullptr;
    CLI::App* metrics_ = nullptr;
    CLI::App* config_ = nullptr;
    CLI::App* presets_ = nullptr;
    CLI::App* methods_ = nullptr;
    std::string db_path_;
    std::string show_target_, show_format_ = "text";
    std::string show_analysis_;  // show --analysis: "" = the whole report
    bool with_config_ = false;
    std::string export_target_, export_dir_;
    std::string matrix_path_;
    std::string config_path_, config_preset_;
    std::vector<std::string> config_overrides_;
    bool config_fields_ = false;  // config --fields: the field declaration (config_schema.h)
    std::string config_format_ = "text";
    bool methods_options_ = false;
    std::string methods_format_ = "text";
    // Optional only to add them to the command line in the order --help lists them.
    std::optional<RunsCommand> runs_;
    std::optional<MergeCommand> merge_;
    std::optional<SweepCommand> sweep_;
};

// The config document of --config FILE or --preset NAME with the --set overrides applied
// (engine/config/presets.h); prints the notes of assembling it (e.g. options dropped when --set
// changed method.name) on stderr.
nlohmann::json assembled_document(const std::string& config_path, const std::string& preset,
                                  const std::vector<std::string>& overrides);

}  // namespace lorica::cli
