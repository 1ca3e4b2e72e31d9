#pragma once
// RunStatus: where a run (or a whole experiment) stands — one closed set, parsed once.
//
// The names are the text the store writes in runs.status and reads back (run_writes.cpp,
// run_reads.cpp, run_listing.cpp): they are part of the database format, so existing databases keep
// opening. Every front end (CLI `runs --status`, the GUI's status filter and messages) takes the
// names from the one table below, kRunStatusNames.

#include <array>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace lorica {

enum class RunStatus { running, finished, failed, cancelled, interrupted };

// The one table of names, in enum order.
inline constexpr std::array<std::pair<RunStatus, const char*>, 5> kRunStatusNames{{
    {RunStatus::running, "running"},
    {RunStatus::finished, "finished"},
    {RunStatus::failed, "failed"},
    {RunStatus::cancelled, "cancelled"},
    {RunStatus::interrupted, "interrupted"},
}};

inline const char* to_string(RunStatus status) {
    for (const auto& [s, name] : kRunStatusNames)
        if (s == status) return name;
    return "?";
}

// Throws std::invalid_argument naming the allowed values.
inline RunStatus run_status_from_string(std::string_view text) {
    std::string allowed;
    for (const auto& [s, name] : kRunStatusNames) {
        if (text == name) return s;
        allowed += (allowed.empty() ? "" : ", ") + std::string(name);
    }
    throw std::invalid_argument("unknown run status '" + std::string(text) + "' (allowed: " + allowed + ")");
}

// A run that stopped before its end (interrupted, cancelled, failed) can be resumed from its last
// task checkpoint (engine/services/run_resume.h decides with the checkpoints at hand).
inline bool is_resumable(RunStatus status) {
    return status == RunStatus::interrupted || status == RunStatus::cancelled || status == RunStatus::failed;
}

}  // namespace lorica
