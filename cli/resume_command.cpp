#include "cli/resume_command.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <CLI/CLI.hpp>

#include "cli/progress_printer.h"
#include "cli/report.h"
#include "engine/store/run_store.h"
#include "engine/store/store_listener.h"
#include "engine/services/preflight.h"
#include "engine/util/short_lived_thread.h"
#include "engine/services/run_resume.h"
#include "engine/services/training_job.h"

namespace lorica::cli {
namespace {

std::atomic<TrainingJob*> g_resumed_job{nullptr};

void cancel_resumed_job(int) {
    if (TrainingJob* job = g_resumed_job.load()) job->cancel();
}

}  // namespace

ResumeCommand::ResumeCommand(CLI::App& app, const std::string& db_default) : db_path_(db_default) {
    command_ = app.add_subcommand("resume",
                                  "continue an interrupted, cancelled or failed run from its last task "
                                  "checkpoint, into the same run record");
    command_->add_option("RUN", run_id_, "run id (see `lorica-cli runs`)")->required();
    command_->add_option("--db", db_path_, "SQLite results database")->capture_default_str();
    command_->add_option("--task", task_, "continue from the checkpoint after this task (1-based; default: the newest)")
        ->check(CLI::PositiveNumber);
    command_->add_option("--progress-every", progress_every_, "print a progress line every N steps")
        ->check(CLI::PositiveNumber);
}

bool ResumeCommand::selected() const { return command_->parsed(); }

int ResumeCommand::run() const {
    if (!std::filesystem::exists(db_path_)) {
        std::fprintf(stderr, "error: no results database at '%s' (give --db PATH)\n", db_path_.c_str());
        return 2;
    }
    auto store = std::make_shared<RunStore>(RunStore::open(db_path_));
    std::shared_ptr<const ResumePlan> plan;
    std::shared_ptr<const PreloadedData> data;
    try {
        plan = std::make_shared<const ResumePlan>(
            plan_resume(*store, run_id_, task_ > 0 ? std::optional<int>(task_ - 1) : std::nullopt));
        // On a thread that ends before training starts (engine/util/short_lived_thread.h says why).
        data = run_on_short_lived_thread([&] { return preflight_experiment(plan->config).data; });
    } catch (const ResumeError& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 2;
    } catch (const PreflightError& e) {
        std::fprintf(stderr, "error: run %lld cannot be resumed: %s\n", run_id_, e.what());
        return 2;
    }
    std::printf("run %lld (%s, seed %lld): %s\n", run_id_, plan->run.method.c_str(),
                static_cast<long long>(plan->run.seed), plan->message().c_str());
    std::fflush(stdout);

    StoreListenerOptions options;
    options.resume_run_id = run_id_;
    auto store_listener = std::make_shared<StoreListener>(store, options);
    auto fanout = std::make_shared<EventFanout>();
    fanout->add(std::make_shared<ProgressPrinter>(progress_every_));
    fanout->add(store_listener);
    RunStatus status;
    std::string refused;
    {
        TrainingJob job(ResumeJob{store, run_id_, plan->after_task(), plan, data}, fanout);
        g_resumed_job.store(&job);
        std::signal(SIGINT, cancel_resumed_job);
        std::signal(SIGTERM, cancel_resumed_job);
        status = job.wait();
        g_resumed_job.store(nullptr);
        refused = job.preflight_error();
    }
    store_listener->flush();
    if (!refused.empty()) {
        std::fprintf(stderr, "error: %s\n", refused.c_str());
        return 2;
    }
    std::printf("\nresults stored in %s (run %lld)\n", db_path_.c_str(), run_id_);
    std::printf("%s", run_report(*store, run_id_, false).c_str());
    std::printf("\nrun %s\n", to_string(status));
    return status == RunStatus::finished ? 0 : 1;
}

}  // namespace lorica::cli
