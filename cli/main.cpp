// lorica-cli: the headless front end. Runs the same engine as the desktop workbench.
//
//   lorica-cli run [--preset NAME | --config FILE] [--set key=value]... [--db PATH]
//   lorica-cli run --job DIR/jobs.json --index I          (one job of a sweep: cli/job_command.h)
//   lorica-cli resume RUN [--db PATH] [--task T]          (continue a stopped run: cli/resume_command.h)
//   lorica-cli sweep --config FILE --out DIR [--launcher local|slurm] | --status DIR   (cli/sweep_command.h)
//   lorica-cli runs [--db PATH] [--method M] [--status S] [--since D] [--until D] [--limit N | --all]
//   lorica-cli show RUN|exp:ID [--db PATH] [--config] [--format text|csv|json]
//   lorica-cli export-results RUN|exp:ID --out DIR [--db PATH]
//   lorica-cli metrics --matrix FILE.csv
//   lorica-cli presets | methods [--options] [--format text|json]
//   lorica-cli inspect FILE|DIR
//   lorica-cli export RUN --out DIR [--task T] [--only-task] [--db PATH]
//   lorica-cli merge --into DB SHARD...   (cli/merge_command.h)
//   lorica-cli config [--preset NAME | --config FILE] [--set key=value]...
//   lorica-cli --version      Lorica and LibTorch versions, whether CUDA is usable
// LORICA_TORCH_LIB=DIR: run on the LibTorch with CUDA in DIR (engine/train/torch_library.h).
// Exit codes: 0 success; 1 a run failed while training (NaN loss, disk full: the message names the
// step and the file) or was cancelled; 2 bad input: unknown or malformed arguments, a config field, a
// missing or malformed file (config, data set, weights, adapter, database). `run` checks its input
// before it creates anything in the database (engine/train/preflight.h, docs/bad-input.md).

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/export_results_command.h"
#include "cli/io_commands.h"
#include "cli/job_command.h"
#include "cli/sweep_command.h"
#include "cli/merge_command.h"
#include "cli/resume_command.h"
#include "cli/methods_command.h"
#include "cli/runs_command.h"
#include "cli/progress_printer.h"
#include "cli/report.h"
#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/config/presets.h"
#include "engine/eval/metrics.h"
#include "engine/methods/method_catalog.h"
#include "engine/store/store_listener.h"
#include "engine/train/experiment_runner.h"
#include "engine/train/preflight.h"
#include "engine/train/runtime_info.h"
#include "engine/train/torch_library.h"
#include "engine/train/training_job.h"
#include "engine/util/log.h"
#include "engine/util/paths.h"

namespace {

using namespace lorica;

std::atomic<TrainingJob*> g_job{nullptr};

void on_sigint(int) {
    if (TrainingJob* job = g_job.load()) job->cancel();
}

// Prints the notes of assembling a config (e.g. options dropped when --set changed method.name).
nlohmann::json assembled_document(const std::string& config_path, const std::string& preset,
                                  const std::vector<std::string>& overrides) {
    AssembledConfig assembled = assemble_config(config_path, preset, overrides);
    for (const auto& note : assembled.notes) std::fprintf(stderr, "note: %s\n", note.c_str());
    return std::move(assembled.document);
}

// After the preflight: every failure from here on is a run that failed (exit 1), not bad input.
int run_checked(CheckedExperiment checked, std::shared_ptr<RunStore> store, const std::string& db_path,
                int progress_every);

int command_run(const std::string& config_path, const std::string& preset, const std::vector<std::string>& overrides,
                const std::string& db_path, int progress_every) {
    // Bad input throws here (exit 2), before the database is opened or created.
    CheckedExperiment checked = preflight_experiment(assembled_document(config_path, preset, overrides));
    log::info("run: " + to_json(checked.config).dump());
    auto store = std::make_shared<RunStore>(RunStore::open(db_path));  // a bad database file: exit 2
    try {
        return run_checked(std::move(checked), std::move(store), db_path, progress_every);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: the run failed: %s\n", e.what());
        return 1;
    }
}

int run_checked(CheckedExperiment checked, std::shared_ptr<RunStore> store, const std::string& db_path,
                int progress_every) {
    const ExperimentConfig config = checked.config;
    auto store_listener = std::make_shared<StoreListener>(store);
    auto fanout = std::make_shared<EventFanout>();
    // The printer first: a run that fails because the store cannot write (disk full) is still reported.
    fanout->add(std::make_shared<cli::ProgressPrinter>(progress_every));
    fanout->add(store_listener);

    RunStatus status;
    {
        TrainingJob job(std::move(checked), fanout);
        g_job.store(&job);
        std::signal(SIGINT, on_sigint);
        std::signal(SIGTERM, on_sigint);
        status = job.wait();
        g_job.store(nullptr);
    }
    store_listener->flush();
    std::printf("\nresults stored in %s (experiment %lld)\n", db_path.c_str(),
                static_cast<long long>(store_listener->experiment_id()));
    const auto ids = store_listener->run_ids();
    if (has_variants(config)) {
        std::printf("%s", cli::experiment_report(*store, store_listener->experiment_id()).c_str());
    } else if (ids.size() == 1) {
        std::printf("%s", cli::run_report(*store, ids.front(), false).c_str());
    } else {
        for (int64_t id : ids) {
            auto run = store->run(id);
            std::printf("\n--- run %lld (seed %lld): %s\n", static_cast<long long>(id),
                        static_cast<long long>(run ? run->seed : -1), run ? to_string(run->status) : "?");
            if (run && run->status == RunStatus::finished) {
                auto rows = store->eval_rows(id);
                std::vector<EvalRow> plain;
                for (auto& r : rows) plain.push_back(r.row);
                std::printf("%s", format_matrix(AccuracyMatrix::from_eval_rows(plain, HeadMode::class_il, run->num_tasks)).c_str());
            }
        }
        std::printf("%s", cli::runs_summary(*store, ids).c_str());
    }
    std::printf("\nexperiment %s\n", to_string(status));
    return status == RunStatus::finished ? 0 : 1;
}

int command_show(const std::string& db_path, const std::string& target_text, bool with_config, const std::string& format) {
    if (format != "text") return cli::print_results(db_path, target_text, format);
    const cli::ResultsTarget target = cli::parse_results_target(target_text);
    RunStore store = RunStore::open(db_path);
    if (target.experiment) {
        (void)cli::target_run_ids(store, target);  // names the database when the experiment is missing
        std::printf("%s", cli::experiment_report(store, target.id).c_str());
        return 0;
    }
    const int64_t run_id = target.id;
    auto run = store.run(run_id);
    if (!run) {
        std::fprintf(stderr, "error: no run %lld in %s (see `lorica-cli runs`)\n", static_cast<long long>(run_id), db_path.c_str());
        return 2;
    }
    std::printf("%s", cli::run_report(store, run_id, with_config).c_str());
    if (run->experiment_id > 0) {
        auto siblings = store.runs_of_experiment(run->experiment_id);
        bool variants = false;
        for (const auto& s : siblings) variants = variants || !s.variant.empty();
        if (variants) {
            std::printf("%s", cli::experiment_report(store, run->experiment_id).c_str());
        } else if (siblings.size() > 1) {
            std::vector<int64_t> ids;
            std::string seeds;
            for (const auto& s : siblings) {
                ids.push_back(s.id);
                seeds += (seeds.empty() ? "" : ", ") + std::to_string(s.seed);
            }
            std::printf("\nexperiment %lld: %zu runs (seeds %s)%s", static_cast<long long>(run->experiment_id),
                        siblings.size(), seeds.c_str(), cli::runs_summary(store, ids).c_str());
        }
    }
    return 0;
}

int command_metrics(const std::string& csv_path) {
    std::ifstream in(csv_path);
    if (!in) {
        std::fprintf(stderr, "error: cannot open matrix file '%s'\n", csv_path.c_str());
        return 2;
    }
    AccuracyMatrix matrix = AccuracyMatrix::from_percent_csv(in, csv_path);
    std::printf("accuracy matrix R[t][j] (%%)\n%s\n%s", format_matrix(matrix).c_str(),
                format_metrics_table(compute_metrics(matrix)).c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        lorica::use_torch_library_from_env(argv);
    } catch (const lorica::TorchLibraryError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    CLI::App app{"lorica-cli: continual learning with low-rank adapters, headless"};
    app.require_subcommand(1);
    app.set_version_flag(
        "--version",
        [] {
            std::string text = lorica::version_text("lorica-cli", lorica::runtime_info());
            return text.substr(0, text.size() - 1);  // CLI11 ends the line
        },
        "print the Lorica and LibTorch versions and whether CUDA is usable, then exit");
    app.footer("Exit codes: 0 success; 1 a run failed while training (NaN loss, disk full) or was cancelled;\n"
               "2 bad input (arguments, config fields, missing or malformed files), reported before anything runs\n"
               "or is stored. See docs/bad-input.md.");
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "debug logging on the console");
    std::string db_path = lorica::default_database_path();

    auto* run = app.add_subcommand("run", "run an experiment (default: the embedded Fashion-MNIST default preset)");
    std::string config_path, preset;
    std::vector<std::string> overrides;
    int progress_every = 24;
    auto* config_opt = run->add_option("-c,--config", config_path, "experiment config JSON file")->check(CLI::ExistingFile);
    run->add_option("-p,--preset", preset, "preset name (see `lorica-cli presets`)")->excludes(config_opt);
    run->add_option("-s,--set", overrides, "override a config field: key=value (repeatable), e.g. train.epochs=1");
    run->add_option("--db", db_path, "SQLite results database")->capture_default_str();
    run->add_option("--progress-every", progress_every, "print a progress line every N steps")->check(CLI::PositiveNumber);
    std::string job_file;
    int job_index = -1;
    auto* job_opt = run->add_option("--job", job_file, "a sweep's jobs.json: run its job --index into a shard (see `sweep`)")
                        ->check(CLI::ExistingFile)->excludes(config_opt);
    run->add_option("--index", job_index, "the job's index in --job (Slurm: $SLURM_ARRAY_TASK_ID)")->needs(job_opt);

    lorica::cli::RunsCommand runs_cmd(app, db_path);

    auto* show = app.add_subcommand("show", "show a run (accuracy matrices, metrics, foundation classes) or an "
                                            "experiment (one row per variant, mean ± std over seeds)");
    std::string show_target, show_format = "text";
    bool with_config = false;
    show->add_option("RUN", show_target, "run id (see `lorica-cli runs`), or exp:ID for a whole experiment")->required();
    show->add_option("--db", db_path, "SQLite results database")->capture_default_str();
    show->add_flag("--config", with_config, "print the run's effective config");
    show->add_option("--format", show_format, "text (tables), csv (every exported table) or json")
        ->check(CLI::IsMember({"text", "csv", "json"}))
        ->capture_default_str();

    auto* export_results_cmd = app.add_subcommand("export-results", "write a run's or experiment's results as CSV tables and "
                                                            "results.json (accuracy matrices, metrics, loss, method "
                                                            "state, analyses, foundation classes)");
    std::string export_target, export_dir;
    export_results_cmd->add_option("RUN", export_target, "run id, or exp:ID for every run of an experiment")->required();
    export_results_cmd->add_option("-o,--out", export_dir, "output directory (created when missing)")->required();
    export_results_cmd->add_option("--db", db_path, "SQLite results database")->capture_default_str();

    auto* metrics = app.add_subcommand("metrics", "compute every metric from an accuracy matrix CSV");
    std::string matrix_path;
    metrics->add_option("--matrix", matrix_path,
                        "CSV: row t holds R[t][0..t] in percent, cells right of the diagonal empty")->required();

    auto* config_cmd = app.add_subcommand("config", "print the effective config (preset or file, then overrides), validated");
    std::string config_cmd_path, config_cmd_preset;
    std::vector<std::string> config_cmd_overrides;
    auto* config_cmd_file = config_cmd->add_option("-c,--config", config_cmd_path, "experiment config JSON file")
                                ->check(CLI::ExistingFile);
    config_cmd->add_option("-p,--preset", config_cmd_preset, "preset name")->excludes(config_cmd_file);
    config_cmd->add_option("-s,--set", config_cmd_overrides, "override a config field: key=value (repeatable)");

    auto* presets = app.add_subcommand("presets", "list the shipped experiment presets");
    auto* methods = app.add_subcommand("methods", "list the adapter methods (--options: every method's options)");
    bool methods_options = false;
    std::string methods_format = "text";
    methods->add_flag("--options", methods_options, "each method's options: type, default, range or choices, doc");
    methods->add_option("--format", methods_format, "text or json")->check(CLI::IsMember({"text", "json"}));

    auto* inspect = app.add_subcommand("inspect", "print a safetensors file's tensors and metadata, or an adapter/checkpoint directory");
    std::string inspect_path;
    inspect->add_option("PATH", inspect_path, "safetensors file, PEFT adapter directory or task checkpoint directory")->required();

    auto* export_cmd = app.add_subcommand("export", "export a run's adapter as a PEFT directory (with timm base weights)");
    lorica::cli::ExportRequest export_request;
    export_cmd->add_option("RUN", export_request.run_id, "run id (see `lorica-cli runs`)")->required();
    export_cmd->add_option("--out", export_request.out_dir, "output directory")->required();
    export_cmd->add_option("--task", export_request.task, "the checkpoint after this task (default: the last)");
    export_cmd->add_flag("--only-task", export_request.only_task, "only the terms created by that task (default: all up to it)");
    export_cmd->add_option("--base-model-name", export_request.base_model_name, "base_model_name_or_path of adapter_config.json");
    export_cmd->add_option("--db", db_path, "SQLite results database")->capture_default_str();

    lorica::cli::MergeCommand merge_cmd(app);

    lorica::cli::SweepCommand sweep_cmd(app);

    lorica::cli::ResumeCommand resume_cmd(app, db_path);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        if (e.get_exit_code() == 0) return app.exit(e);  // --help
        if (argc > 1 && argv[1][0] != '-') {
            bool known = false;
            std::string names;
            for (const auto* sub : app.get_subcommands({})) {
                known = known || sub->get_name() == argv[1];
                names += (names.empty() ? "" : ", ") + sub->get_name();
            }
            if (!known) {
                std::fprintf(stderr, "error: unknown command '%s' (commands: %s)\n", argv[1], names.c_str());
                return 2;
            }
        }
        // Every other argument error is bad input: exit 2 (CLI11's own codes, e.g. 105, are not ours).
        std::fprintf(stderr, "error: %s\n(see `lorica-cli --help`, or `lorica-cli COMMAND --help`)\n", e.what());
        return 2;
    }
    lorica::log::setup(verbose, lorica::default_data_dir() + "/lorica-cli.log");
    try {
        // Reading commands never create a database: a missing file is bad input.
        const std::string& read_db = runs_cmd.selected() ? runs_cmd.db_path() : db_path;
        if ((runs_cmd.selected() || *show || *export_results_cmd || *export_cmd) && !std::filesystem::exists(read_db)) {
            std::fprintf(stderr, "error: no results database at '%s' (give --db PATH, or start with `lorica-cli run`)\n",
                         read_db.c_str());
            return 2;
        }
        if (*run && !job_file.empty()) return lorica::cli::command_run_job(job_file, job_index, progress_every);
        if (*run) return command_run(config_path, preset, overrides, db_path, progress_every);
        if (sweep_cmd.selected()) return sweep_cmd.run();
        if (resume_cmd.selected()) return resume_cmd.run();
        if (merge_cmd.selected()) return merge_cmd.run();
        if (runs_cmd.selected()) return runs_cmd.run();
        if (*show) return command_show(db_path, show_target, with_config, show_format);
        if (*export_results_cmd) return lorica::cli::command_export_results(db_path, export_target, export_dir);
        if (*metrics) return command_metrics(matrix_path);
        if (*inspect) return lorica::cli::command_inspect(inspect_path);
        if (*export_cmd) {
            export_request.db_path = db_path;
            return lorica::cli::command_export(export_request);
        }
        if (*config_cmd) {
            auto config = lorica::preflight_config(assembled_document(config_cmd_path, config_cmd_preset, config_cmd_overrides));
            std::printf("%s\n", lorica::to_json(config).dump(2).c_str());
            return 0;
        }
        if (*presets) {
            for (const auto& name : lorica::list_presets()) std::printf("%s  (%s)\n", name.c_str(), lorica::find_preset(name).c_str());
            return 0;
        }
        if (*methods) return lorica::cli::command_methods(methods_options, methods_format);
    } catch (const lorica::ConfigError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    }
    return 0;
}
