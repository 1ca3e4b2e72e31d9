#include "cli/core_commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <CLI/CLI.hpp>

#include "cli/export_results_command.h"
#include "cli/methods_command.h"
#include "cli/report.h"
#include "engine/config/config_check.h"
#include "engine/config/config_schema.h"
#include "engine/config/presets.h"
#include "engine/eval/metrics.h"
#include "engine/store/results_export.h"
#include "engine/store/run_store.h"
#include "engine/util/paths.h"

namespace lorica::cli {

nlohmann::json assembled_document(const std::string& config_path, const std::string& preset,
                                  const std::vector<std::string>& overrides) {
    AssembledConfig assembled = assemble_config(config_path, preset, overrides);
    for (const auto& note : assembled.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
    return std::move(assembled.document);
}

CoreCommands::CoreCommands(CLI::App& app) : db_path_(default_database_path()) {
    runs_.emplace(app, db_path_);
    show_ = app.add_subcommand("show",
                               "show a run (accuracy matrices, metrics, foundation classes) or an "
                               "experiment (one row per variant, mean ± std over seeds)");
    show_->add_option("RUN", show_target_, "run id (see `lorica-cli runs`), or exp:ID for a whole experiment")
        ->required();
    show_->add_option("--db", db_path_, "SQLite results database")->capture_default_str();
    show_->add_flag("--config", with_config_, "print the run's effective config");
    show_->add_option("--format", show_format_, "text (tables), csv (every exported table) or json")
        ->check(CLI::IsMember({"text", "csv", "json"}))
        ->capture_default_str();
    show_
        ->add_option("--analysis", show_analysis_,
                     "only this analysis: contextual-forgetting (per task: lost foundation samples against the "
                     "classes' WordNet similarity to the task) or low-loss-region (distances between the tasks' "
                     "optima fine-tuned alone, their ratio, the continual weights against them; "
                     "analysis.low_loss_region = true); every run of exp:ID; --format csv or json: the numbers "
                     "export-results writes")
        ->check(CLI::IsMember({"contextual-forgetting", "low-loss-region"}));

    export_results_ = app.add_subcommand("export-results",
                                         "write a run's or experiment's results as CSV tables and "
                                         "results.json (accuracy matrices, metrics, loss, method "
                                         "state, analyses, foundation classes, contextual forgetting)");
    export_results_->add_option("RUN", export_target_, "run id, or exp:ID for every run of an experiment")->required();
    export_results_->add_option("-o,--out", export_dir_, "output directory (created when missing)")->required();
    export_results_->add_option("--db", db_path_, "SQLite results database")->capture_default_str();

    metrics_ = app.add_subcommand("metrics", "compute every metric from an accuracy matrix CSV");
    metrics_
        ->add_option("--matrix", matrix_path_,
                     "CSV: row t holds R[t][0..t] in percent, cells right of the diagonal empty")
        ->required();

    config_ = app.add_subcommand("config", "print the effective config (preset or file, then overrides), validated");
    auto* config_file =
        config_->add_option("-c,--config", config_path_, "experiment config JSON file")->check(CLI::ExistingFile);
    config_->add_option("-p,--preset", config_preset_, "preset name")->excludes(config_file);
    config_->add_option("-s,--set", config_overrides_, "override a config field: key=value (repeatable)");
    config_->add_flag("--fields", config_fields_,
                      "list every config field instead: key path, type, range or choices, unit, label, doc "
                      "(engine/config/config_schema.h); with --format json as JSON");
    config_->add_option("--format", config_format_, "--fields: text or json")->check(CLI::IsMember({"text", "json"}));

    presets_ = app.add_subcommand("presets", "list the shipped experiment presets");
    methods_ = app.add_subcommand("methods", "list the adapter methods (--options: every method's options)");
    methods_->add_flag("--options", methods_options_, "each method's options: type, default, range or choices, doc");
    methods_->add_option("--format", methods_format_, "text or json")->check(CLI::IsMember({"text", "json"}));
    merge_.emplace(app);
    sweep_.emplace(app);
}

bool CoreCommands::selected() const {
    return runs_->selected() || merge_->selected() || sweep_->selected() || *show_ || *export_results_ || *metrics_ ||
           *config_ || *presets_ || *methods_;
}

int CoreCommands::run() {
    // Reading commands never create a database: a missing file is bad input.
    const std::string& read_db = runs_->selected() ? runs_->db_path() : db_path_;
    if ((runs_->selected() || *show_ || *export_results_) && !std::filesystem::exists(read_db)) {
        std::fprintf(stderr, "error: no results database at '%s' (give --db PATH, or start with `lorica-cli run`)\n",
                     read_db.c_str());
        return 2;
    }
    if (sweep_->selected()) return sweep_->run();
    if (merge_->selected()) return merge_->run();
    if (runs_->selected()) return runs_->run();
    if (*show_) return show();
    if (*export_results_) return command_export_results(db_path_, export_target_, export_dir_);
    if (*metrics_) return metrics();
    if (*config_) return config();
    if (*presets_) {
        for (const auto& name : list_presets()) {
            const std::string description = preset_description(name);
            std::printf("%-34s %s\n", name.c_str(),
                        description.empty() ? ("(" + find_preset(name) + ")").c_str() : description.c_str());
        }
        return 0;
    }
    if (*methods_) return command_methods(methods_options_, methods_format_);
    return 0;
}

int CoreCommands::show() const {
    if (!show_analysis_.empty()) {
        RunStore store = RunStore::open(db_path_);
        const std::vector<int64_t> ids = target_run_ids(store, parse_results_target(show_target_));
        const bool low_loss = show_analysis_ == "low-loss-region";
        // The analysis's key in export-results' JSON runs, and the prefix of its CSV tables.
        const std::string key = low_loss ? "low_loss_region" : "contextual_forgetting";
        const std::string prefix = low_loss ? "low_loss_" : "contextual_forgetting";
        if (show_format_ != "text") {  // the analysis's part of export-results: its tables, or per run its JSON
            const ResultsExport results = export_results(store, ids);
            if (show_format_ == "json") {
                nlohmann::json runs = nlohmann::json::array();
                for (const auto& run : results.document["runs"])
                    runs.push_back({{"run_id", run["run_id"]}, {key, run[key]}});
                std::printf("%s\n", runs.dump(2).c_str());
                return 0;
            }
            bool first = true;
            for (const auto& t : results.tables)
                if (t.name.rfind(prefix, 0) == 0) {
                    std::printf("%s# %s\n%s", first ? "" : "\n", t.name.c_str(), to_csv(t).c_str());
                    first = false;
                }
            return 0;
        }
        bool first = true;
        for (int64_t id : ids) {
            const std::string report =
                low_loss ? low_loss_region_report(store, id) : contextual_forgetting_report(store, id);
            std::printf("%s%s", first ? "" : "\n", report.c_str());
            first = false;
        }
        return 0;
    }
    if (show_format_ != "text") return print_results(db_path_, show_target_, show_format_);
    const ResultsTarget target = parse_results_target(show_target_);
    RunStore store = RunStore::open(db_path_);
    if (target.experiment) {
        (void)target_run_ids(store, target);  // names the database when the experiment is missing
        std::printf("%s", experiment_report(store, target.id).c_str());
        return 0;
    }
    const int64_t run_id = target.id;
    auto run = store.run(run_id);
    if (!run) {
        std::fprintf(stderr, "error: no run %lld in %s (see `lorica-cli runs`)\n", static_cast<long long>(run_id),
                     db_path_.c_str());
        return 2;
    }
    std::printf("%s", run_report(store, run_id, with_config_).c_str());
    if (run->experiment_id > 0) {
        auto siblings = store.runs_of_experiment(run->experiment_id);
        bool variants = false;
        for (const auto& s : siblings) variants = variants || !s.variant.empty();
        if (variants) {
            std::printf("%s", experiment_report(store, run->experiment_id).c_str());
        } else if (siblings.size() > 1) {
            std::vector<int64_t> ids;
            std::string seeds;
            for (const auto& s : siblings) {
                ids.push_back(s.id);
                seeds += (seeds.empty() ? "" : ", ") + std::to_string(s.seed);
            }
            std::printf("\nexperiment %lld: %zu runs (seeds %s)%s", static_cast<long long>(run->experiment_id),
                        siblings.size(), seeds.c_str(), runs_summary(store, ids).c_str());
        }
    }
    return 0;
}

int CoreCommands::metrics() const {
    std::ifstream in(matrix_path_);
    if (!in) {
        std::fprintf(stderr, "error: cannot open matrix file '%s'\n", matrix_path_.c_str());
        return 2;
    }
    AccuracyMatrix matrix = AccuracyMatrix::from_percent_csv(in, matrix_path_);
    std::printf("accuracy matrix R[t][j] (%%)\n%s\n%s", format_matrix(matrix).c_str(),
                format_metrics_table(compute_metrics(matrix)).c_str());
    return 0;
}

int CoreCommands::config() const {
    if (config_fields_) {
        std::printf("%s", config_format_ == "json" ? (config_fields_json().dump(2) + "\n").c_str()
                                                   : config_fields_text().c_str());
        return 0;
    }
    const ExperimentConfig config =
        preflight_config(assembled_document(config_path_, config_preset_, config_overrides_));
    std::printf("%s\n", to_json(config).dump(2).c_str());
    return 0;
}

}  // namespace lorica::cli
