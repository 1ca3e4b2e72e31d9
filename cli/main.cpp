// lorica-cli-engine: the LibTorch half of the headless front end lorica-cli. Runs the same engine as
// the desktop workbench. `lorica-cli` (cli/front_main.cpp, no LibTorch) runs the commands of
// cli/core_commands.h itself and executes this program, with the same arguments, for every other
// command line: run (and a sweep's `run --job`), inspect, export, --version, --help. This program
// also runs the core commands (it adds them to its command line), so its --help is complete.
// A new command that needs LibTorch: add it here; lorica-cli hands it over unchanged.
//
//   lorica-cli run [--preset NAME | --config FILE] [--set key=value]... [--db PATH]
//   lorica-cli run --job DIR/jobs.json --index I          (one job of a sweep: cli/job_command.h)
//   lorica-cli resume RUN [--db PATH] [--task T]          (continue a stopped run: cli/resume_command.h)
//   lorica-cli prepare [--preset NAME | --config FILE] [--set k=v]... --out DIR [--workers N] [--verify]
//   lorica-cli sweep --config FILE --out DIR [--launcher local|slurm] | --status DIR   (cli/sweep_command.h)
//   lorica-cli runs [--db PATH] [--method M] [--status S] [--since D] [--until D] [--limit N | --all]
//   lorica-cli show RUN|exp:ID [--db PATH] [--config] [--format text|csv|json] [--analysis contextual-forgetting|low-loss-region]
//   lorica-cli export-results RUN|exp:ID --out DIR [--db PATH]
//   lorica-cli metrics --matrix FILE.csv
//   lorica-cli presets | methods [--options] [--format text|json]
//   lorica-cli inspect FILE|DIR
//   lorica-cli export RUN --out DIR [--task T] [--only-task] [--db PATH]
//   lorica-cli merge --into DB SHARD...   (cli/merge_command.h)
//   lorica-cli config [--preset NAME | --config FILE] [--set key=value]... | config --fields [--format text|json]
//   lorica-cli --version      Lorica and LibTorch versions, whether CUDA is usable
//   lorica-cli --version --verbose   ... and the GEMM kernel per product (cli/kernel_choice_report.h)
// LORICA_TORCH_LIB=DIR: run on the LibTorch with CUDA in DIR (engine/runtime/torch_library.h).
// Exit codes: 0 success; 1 a run failed while training (NaN loss, disk full: the message names the
// step and the file) or was cancelled; 2 bad input: unknown or malformed arguments, a config field, a
// missing or malformed file (config, data set, weights, adapter, database). `run` checks its input
// before it creates anything in the database (engine/services/preflight.h, docs/bad-input.md).

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/core_commands.h"
#include "cli/exit_codes.h"
#include "cli/io_commands.h"
#include "cli/kernel_choice_report.h"
#include "cli/job_command.h"
#include "cli/parse_arguments.h"
#include "cli/prepare_command.h"
#include "cli/resume_command.h"
#include "cli/progress_printer.h"
#include "cli/report.h"
#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/eval/metrics.h"
#include "engine/store/store_listener.h"
#include "engine/services/experiment_runner.h"
#include "engine/services/preflight.h"
#include "engine/util/short_lived_thread.h"
#include "engine/runtime/runtime_info.h"
#include "engine/runtime/torch_library.h"
#include "engine/services/training_job.h"
#include "engine/util/log.h"
#include "engine/util/paths.h"

namespace {

using namespace lorica;

std::atomic<TrainingJob*> g_job{nullptr};

void on_sigint(int) {
    if (TrainingJob* job = g_job.load()) job->cancel();
}

// After the preflight: every failure from here on is a run that failed (exit 1), not bad input.
int run_checked(CheckedExperiment checked, std::shared_ptr<RunStore> store, const std::string& db_path,
                int progress_every);

int command_run(const std::string& config_path, const std::string& preset, const std::vector<std::string>& overrides,
                const std::string& db_path, int progress_every) {
    // Bad input throws here (exit 2), before the database is opened or created.
    // On a thread that ends before training starts (engine/util/short_lived_thread.h says why).
    CheckedExperiment checked = run_on_short_lived_thread(
        [&] { return preflight_experiment(cli::assembled_document(config_path, preset, overrides)); });
    log::info("run: " + to_json(checked.config).dump());
    auto store = std::make_shared<RunStore>(RunStore::open(db_path));  // a bad database file: exit 2
    return cli::exit_code_of_run(
        [&] { return run_checked(std::move(checked), std::move(store), db_path, progress_every); });
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
                std::printf(
                    "%s",
                    format_matrix(AccuracyMatrix::from_eval_rows(plain, HeadMode::class_il, run->num_tasks)).c_str());
            }
        }
        std::printf("%s", cli::runs_summary(*store, ids).c_str());
    }
    std::printf("\nexperiment %s\n", to_string(status));
    return status == RunStatus::finished ? 0 : 1;
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
        [argc, argv] {
            std::string text = lorica::version_text("lorica-cli", lorica::runtime_info());
            if (lorica::cli::asks_verbose(argc, argv)) text += lorica::cli::kernel_choice_report();
            return text.substr(0, text.size() - 1);  // CLI11 ends the line
        },
        "print the Lorica and LibTorch versions and whether CUDA is usable, then exit (with --verbose: the GEMM "
        "kernel chosen for each product on this machine, measured if not cached)");
    app.footer(
        "Exit codes: 0 success; 1 a run failed while training (NaN loss, disk full) or was cancelled;\n"
        "2 bad input (arguments, config fields, missing or malformed files), reported before anything runs\n"
        "or is stored. See docs/bad-input.md.");
    bool verbose = false;
    app.add_flag("-v,--verbose", verbose, "debug logging on the console");
    std::string db_path = lorica::default_database_path();

    auto* run = app.add_subcommand("run", "run an experiment (default: the embedded Fashion-MNIST default preset)");
    std::string config_path, preset;
    std::vector<std::string> overrides;
    int progress_every = 24;
    auto* config_opt =
        run->add_option("-c,--config", config_path, "experiment config JSON file")->check(CLI::ExistingFile);
    run->add_option("-p,--preset", preset, "preset name (see `lorica-cli presets`)")->excludes(config_opt);
    run->add_option("-s,--set", overrides, "override a config field: key=value (repeatable), e.g. train.epochs=1");
    run->add_option("--db", db_path, "SQLite results database")->capture_default_str();
    run->add_option("--progress-every", progress_every, "print a progress line every N steps")
        ->check(CLI::PositiveNumber);
    std::string job_file;
    int job_index = -1;
    auto* job_opt =
        run->add_option("--job", job_file, "a sweep's jobs.json: run its job --index into a shard (see `sweep`)")
            ->check(CLI::ExistingFile)
            ->excludes(config_opt);
    run->add_option("--index", job_index, "the job's index in --job (Slurm: $SLURM_ARRAY_TASK_ID)")->needs(job_opt);

    lorica::cli::CoreCommands core(app);

    auto* inspect = app.add_subcommand(
        "inspect", "print a safetensors file's tensors and metadata, or an adapter/checkpoint directory");
    std::string inspect_path;
    inspect->add_option("PATH", inspect_path, "safetensors file, PEFT adapter directory or task checkpoint directory")
        ->required();

    auto* export_cmd =
        app.add_subcommand("export", "export a run's adapter as a PEFT directory (with timm base weights)");
    lorica::cli::ExportRequest export_request;
    export_cmd->add_option("RUN", export_request.run_id, "run id (see `lorica-cli runs`)")->required();
    export_cmd->add_option("--out", export_request.out_dir, "output directory")->required();
    export_cmd->add_option("--task", export_request.task, "the checkpoint after this task (default: the last)");
    export_cmd->add_flag("--only-task", export_request.only_task,
                         "only the terms created by that task (default: all up to it)");
    export_cmd->add_option("--base-model-name", export_request.base_model_name,
                           "base_model_name_or_path of adapter_config.json");
    export_cmd->add_option("--db", db_path, "SQLite results database")->capture_default_str();

    lorica::cli::ResumeCommand resume_cmd(app, db_path);
    lorica::cli::PrepareCommand prepare_cmd(app);

    if (const int code = lorica::cli::parse_arguments(app, argc, argv); code >= 0) return code;
    lorica::log::setup(verbose, lorica::default_data_dir() + "/lorica-cli.log");
    return lorica::cli::exit_code_of_command([&]() -> int {
        if (core.selected()) return core.run();
        if (*export_cmd && !std::filesystem::exists(db_path)) {
            std::fprintf(stderr,
                         "error: no results database at '%s' (give --db PATH, or start with `lorica-cli run`)\n",
                         db_path.c_str());
            return 2;
        }
        if (*run && !job_file.empty()) return lorica::cli::command_run_job(job_file, job_index, progress_every);
        if (*run) return command_run(config_path, preset, overrides, db_path, progress_every);
        if (resume_cmd.selected()) return resume_cmd.run();
        if (prepare_cmd.selected()) return prepare_cmd.run();
        if (*inspect) return lorica::cli::command_inspect(inspect_path);
        if (*export_cmd) {
            export_request.db_path = db_path;
            return lorica::cli::command_export(export_request);
        }
        return 0;
    });
}
