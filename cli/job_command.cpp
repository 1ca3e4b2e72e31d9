#include "cli/job_command.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <pthread.h>
#include <thread>
#include <unistd.h>

#include "cli/progress_printer.h"
#include "engine/config/sweep_jobs.h"
#include "engine/config/sweep_status.h"
#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"
#include "engine/store/store_listener.h"
#include "engine/services/experiment_runner.h"
#include "engine/services/run_resume.h"
#include "engine/util/log.h"

namespace lorica::cli {
namespace {

namespace fs = std::filesystem;

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

void write_record(const std::string& path, const JobRecord& record) {
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp);
        out << to_json(record).dump(2) << "\n";
        if (!out) throw std::runtime_error("cannot write job status file '" + tmp + "'");
    }
    fs::rename(tmp, path);
}

void remove_database_files(const std::string& path) {
    std::error_code ec;
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(path + suffix, ec);
}

// SIGTERM / SIGINT → cancel the run. The signals are blocked in every thread (threads started later
// inherit the mask) and taken by one watcher thread with sigwait, so the cancel runs in ordinary
// thread context (not in a signal handler).
class SignalCancel {
public:
    explicit SignalCancel(CancelToken& token) : token_(token) {
        sigemptyset(&set_);
        sigaddset(&set_, SIGTERM);
        sigaddset(&set_, SIGINT);
        sigaddset(&set_, SIGUSR1);  // our own "stop watching"
        pthread_sigmask(SIG_BLOCK, &set_, nullptr);
        watcher_ = std::thread([this] {
            while (true) {
                int sig = 0;
                if (sigwait(&set_, &sig) != 0) continue;
                if (sig == SIGUSR1) return;
                signal_ = sig;
                token_.request_cancel();
            }
        });
    }
    // The signals stay blocked: one arriving now (the run is over) must not kill the process before
    // it has published the shard; the process exits right after.
    ~SignalCancel() {
        pthread_kill(watcher_.native_handle(), SIGUSR1);
        watcher_.join();
    }
    int signal() const { return signal_; }

private:
    CancelToken& token_;
    sigset_t set_;
    std::atomic<int> signal_{0};
    std::thread watcher_;
};

// The newest shard a retried job's earlier attempt left (DIR/failed/<job>.<time>.sqlite, moved there by
// `sweep --retry`), or "" when there is none.
std::string previous_attempt_shard(const SweepLayout& layout, const SweepJob& job) {
    const fs::path failed = fs::path(layout.dir) / "failed";
    std::string newest;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(failed, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind(job.name + ".", 0) == 0 && entry.path().extension() == ".sqlite" &&
            entry.path().string() > newest)
            newest = entry.path().string();
    }
    return newest;
}

// A retried job continues its previous attempt's run when that attempt left a shard whose run can be
// resumed (a cancelled or failed run with its checkpoints still on disk): the shard is copied into the
// work database and the run resumed there. Returns the run's status, or nullopt (with the reason
// logged) when there is nothing to resume; the work database is then removed again.
std::optional<RunStatus> resume_previous_attempt(const SweepLayout& layout, const SweepJob& job,
                                                 const std::string& work_db, int threads,
                                                 const StoreListenerOptions& base, EventListener& printer,
                                                 CancelToken& cancel, int64_t* run_id) {
    const std::string previous = previous_attempt_shard(layout, job);
    if (previous.empty()) return std::nullopt;
    std::shared_ptr<const ResumePlan> plan;
    std::shared_ptr<RunStore> store;
    try {
        fs::copy_file(previous, work_db, fs::copy_options::overwrite_existing);
        store = std::make_shared<RunStore>(RunStore::open(work_db));
        const auto runs = store->list_runs();
        if (runs.size() != 1) throw ResumeError(previous + " holds " + std::to_string(runs.size()) + " runs, not one");
        plan = std::make_shared<const ResumePlan>(plan_resume(*store, runs.front().id));
    } catch (const std::exception& e) {
        std::printf("job %d: the previous attempt (%s) cannot be resumed, starting the run again: %s\n", job.index,
                    previous.c_str(), e.what());
        store.reset();
        remove_database_files(work_db);
        return std::nullopt;
    }
    std::printf("job %d: resuming the previous attempt's run from %s: %s\n", job.index, previous.c_str(),
                plan->message().c_str());
    std::fflush(stdout);
    StoreListenerOptions options = base;
    options.resume_run_id = plan->run.id;
    *run_id = plan->run.id;
    auto store_listener = std::make_shared<StoreListener>(store, options);
    EventFanout fanout;
    fanout.add(store_listener);
    fanout.add(std::shared_ptr<EventListener>(&printer, [](EventListener*) {}));
    RunStatus status = RunStatus::failed;
    try {
        status = resume_run(*plan, *store, nullptr, fanout, cancel, threads);
    } catch (const std::exception& e) {
        log::info(std::string("job resume failed: ") + e.what());
    }
    store_listener->flush();
    return status;
}

}  // namespace

void publish_shard(const std::string& work_db, const std::string& shard_path) {
    const std::string tmp = shard_path + ".tmp";
    remove_database_files(tmp);
    {
        Database db(work_db, OpenMode::read_write);
        std::string quoted;
        for (char c : tmp) quoted += c == '\'' ? std::string("''") : std::string(1, c);
        db.exec("VACUUM INTO '" + quoted + "'");
    }
    std::error_code ec;
    fs::rename(tmp, shard_path, ec);
    if (ec) throw std::runtime_error("cannot rename shard '" + tmp + "' to '" + shard_path + "': " + ec.message());
}

int command_run_job(const std::string& jobs_path, int index, int progress_every) {
    if (index < 0) throw ConfigError("--index", "is required with --job (the job's index, e.g. $SLURM_ARRAY_TASK_ID)");
    const SweepPlan plan = read_sweep_plan(jobs_path);
    if (index < 0 || index >= static_cast<int>(plan.jobs.size()))
        throw ConfigError("--index", "job index " + std::to_string(index) + " is out of range: " + jobs_path +
                                         " holds jobs 0.." + std::to_string(plan.jobs.size() - 1));
    const SweepJob& job = plan.jobs[index];
    const SweepLayout layout{fs::absolute(jobs_path).parent_path().string()};
    fs::create_directories(layout.shards_dir());
    fs::create_directories(layout.status_dir());

    JobRecord record;
    record.state = "running";
    record.host = RunStore::host_name();
    record.pid = ::getpid();
    record.slurm_job_id = env("SLURM_JOB_ID");
    record.slurm_array_job_id = env("SLURM_ARRAY_JOB_ID");
    record.started_at = RunStore::now_iso8601();
    write_record(layout.status(job), record);

    int threads = plan.threads_per_job;
    if (const std::string cpus = env("SLURM_CPUS_PER_TASK"); !cpus.empty())
        threads = std::max(1, std::atoi(cpus.c_str()));
    const std::string work_db =
        (fs::temp_directory_path() / ("lorica-" + plan.experiment_uuid + "-" + job.name + ".sqlite")).string();
    remove_database_files(work_db);
    log::info("job " + std::to_string(job.index) + " (" + job.name + "): variant '" + job.variant + "', seed " +
              std::to_string(job.seed) + ", " + std::to_string(threads) + " threads, database " + work_db +
              (env("CUDA_VISIBLE_DEVICES").empty() ? "" : ", CUDA_VISIBLE_DEVICES=" + env("CUDA_VISIBLE_DEVICES")));

    RunStatus status = RunStatus::failed;
    std::string message;
    int signal = 0;
    try {
        StoreListenerOptions options;
        options.experiment_uuid = plan.experiment_uuid;
        auto printer = std::make_shared<ProgressPrinter>(progress_every);
        CancelToken cancel;
        int64_t resumed_run = 0;
        std::optional<RunStatus> resumed;
        {
            SignalCancel watch(cancel);
            resumed = resume_previous_attempt(layout, job, work_db, threads, options, *printer, cancel, &resumed_run);
            signal = watch.signal();
        }
        if (resumed) {
            status = *resumed;
            if (status != RunStatus::finished)
                if (auto run = RunStore::open(work_db).run(resumed_run)) message = run->message;
        } else {
            auto store = std::make_shared<RunStore>(RunStore::open(work_db));
            auto store_listener = std::make_shared<StoreListener>(store, options);
            EventFanout fanout;
            fanout.add(store_listener);
            fanout.add(printer);
            {
                SignalCancel watch(cancel);
                status = run_experiment_job(experiment_started(plan), job_variant(job), job.seed_index, plan.rank_sweep,
                                            threads, fanout, cancel);
                signal = watch.signal();
            }
            store_listener->flush();
            if (status != RunStatus::finished)
                if (auto run = store->run(store_listener->current_run_id())) message = run->message;
        }
    } catch (const std::exception& e) {
        status = RunStatus::failed;
        message = e.what();
    }
    try {
        publish_shard(work_db, layout.shard(job));
        remove_database_files(work_db);
    } catch (const std::exception& e) {
        status = RunStatus::failed;
        message = std::string("shard not published: ") + e.what();
    }
    record.state = status == RunStatus::finished ? "finished" : status == RunStatus::cancelled ? "cancelled" : "failed";
    if (signal != 0 && status != RunStatus::finished)
        message = std::string("stopped by ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT") +
                  " (a time limit, preemption or scancel)" + (message.empty() ? "" : ": " + message);
    record.message = message;
    record.ended_at = RunStore::now_iso8601();
    write_record(layout.status(job), record);
    std::printf("\njob %d (%s) %s%s%s; shard %s\n", job.index, job.name.c_str(), record.state.c_str(),
                message.empty() ? "" : ": ", message.c_str(), layout.shard(job).c_str());
    return status == RunStatus::finished ? 0 : 1;
}

}  // namespace lorica::cli
