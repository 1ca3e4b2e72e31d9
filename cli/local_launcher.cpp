#include "cli/local_launcher.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "cli/subprocess.h"
#include "engine/config/sbatch_script.h"

namespace lorica::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

}  // namespace

int default_local_workers(const SweepPlan& plan, int jobs) {
    const int cores = std::max(1u, std::thread::hardware_concurrency());
    return std::clamp(cores / std::max(1, plan.threads_per_job), 1, std::max(1, jobs));
}

int run_local_jobs(const SweepPlan& plan, const SweepLayout& layout, const std::vector<int>& indices, int workers,
                   const std::string& cli_path, bool dry_run) {
    const auto command = [&](int index) {
        return std::vector<std::string>{cli_path, "run", "--job", layout.jobs_file(), "--index", std::to_string(index)};
    };
    if (dry_run) {
        for (int i : indices) {
            std::string line = "OMP_NUM_THREADS=" + std::to_string(plan.threads_per_job);
            for (const auto& a : command(i)) line += " " + shell_quote(a);
            std::printf("%s > %s\n", line.c_str(), shell_quote(layout.local_log(plan.jobs[i])).c_str());
        }
        return 0;
    }
    std::filesystem::create_directories(layout.logs_dir());
    ::setenv("OMP_NUM_THREADS", std::to_string(plan.threads_per_job).c_str(), 1);
    struct sigaction action {
    }, old_int{}, old_term{};
    action.sa_handler = on_stop;  // no SA_RESTART: waitpid returns EINTR on a signal
    sigemptyset(&action.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);

    std::printf("sweep: %zu job%s on %d local worker%s (%d thread%s each), logs in %s\n", indices.size(),
                indices.size() == 1 ? "" : "s", workers, workers == 1 ? "" : "s", plan.threads_per_job,
                plan.threads_per_job == 1 ? "" : "s", layout.logs_dir().c_str());
    std::fflush(stdout);
    std::map<pid_t, int> running;  // pid → job index
    size_t next = 0, done = 0;
    int failed = 0;
    bool forwarded = false;
    while (done < indices.size()) {
        while (!g_stop && next < indices.size() && static_cast<int>(running.size()) < workers) {
            const SweepJob& job = plan.jobs[indices[next]];
            running[spawn_logged(command(job.index), layout.local_log(job))] = job.index;
            ++next;
        }
        if (g_stop && !forwarded) {
            for (const auto& [pid, index] : running) ::kill(pid, SIGTERM);
            forwarded = true;
            failed += static_cast<int>(indices.size() - next);  // never started
            done += indices.size() - next;
            next = indices.size();
        }
        if (running.empty()) break;
        int status = 0;
        const pid_t pid = ::waitpid(-1, &status, 0);
        if (pid < 0) {
            if (errno == EINTR) continue;
            break;
        }
        auto it = running.find(pid);
        if (it == running.end()) continue;
        const SweepJob& job = plan.jobs[it->second];
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        failed += ok ? 0 : 1;
        ++done;
        std::printf("[%zu/%zu] %s (variant '%s', seed %lld): %s\n", done, indices.size(), job.name.c_str(),
                    job.variant.c_str(), static_cast<long long>(job.seed),
                    ok ? "finished"
                       : (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                              : "failed (exit " + std::to_string(WEXITSTATUS(status)) + "), see " +
                                                    layout.local_log(job))
                             .c_str());
        std::fflush(stdout);
        running.erase(it);
    }
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
    return failed;
}

}  // namespace lorica::cli
