#pragma once
// Running other programs from lorica-cli (sbatch, squeue, sacct, the sweep's worker processes)
// without a shell: argv vectors, so no argument is ever re-split or interpreted.

#include <string>
#include <sys/types.h>
#include <vector>

namespace lorica::cli {

struct CommandResult {
    int exit_code = -1;  // the program's exit status; 127 when it could not be started
    std::string out;     // its standard output
    std::string err;     // its standard error
};

// Runs argv[0] (looked up on PATH) to completion and captures its output.
CommandResult run_command(const std::vector<std::string>& argv);

// True when `program` is an executable on PATH.
bool on_path(const std::string& program);

// Starts argv[0] (an absolute path) with stdout and stderr appended to `log_path`; returns its pid.
// Throws std::runtime_error naming the program when it cannot be started.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log_path);

// Absolute path of the running executable (/proc/self/exe).
std::string self_executable();

}  // namespace lorica::cli
