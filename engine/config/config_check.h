#pragma once
// The config check of preflight (engine/services/preflight.h, check 1): every field of an assembled
// config document and every variant's method and method.options, with every problem collected into
// one message. Torch-free: `lorica-cli config` and `sweep` run it without LibTorch; preflight adds the
// checks that read files (data, weights, targets) on top.
//
// The parser stops at a field's first error; check_config then drops that field (so its default
// applies) and parses again, to collect the errors of the other fields too (at most
// kMaxConfigProblems).

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"

namespace lorica {

// The most config problems collected before the check gives up on further ones.
inline constexpr int kMaxConfigProblems = 32;

// One problem: `subject` is the config field ("train.optimizer.lr", "variants[2].set.method.rank")
// or, for a file that is not named by a field, the file; `message` says what was found and what is
// allowed.
struct PreflightProblem {
    std::string subject;
    std::string message;
};

// Bad input found before the run: what() is one message listing every problem, e.g.
//   cannot start the experiment: 2 problems (nothing was run or stored)
//     - threads: config field 'threads': must be in [0, 1024], got -3
//     - data.root: Fashion-MNIST file /nope/train-images-idx3-ubyte.gz not found (...)
class PreflightError : public std::runtime_error {
public:
    explicit PreflightError(std::vector<PreflightProblem> problems);
    const std::vector<PreflightProblem>& problems() const { return problems_; }

private:
    std::vector<PreflightProblem> problems_;
};

// The problems found so far, without repeats (variants sharing a section report it once).
class ConfigProblems {
public:
    void add(std::string subject, std::string message);
    // Whether a problem's subject lies in one of these top-level sections ("data", "backbone", ...).
    bool touches(std::initializer_list<const char*> sections) const;
    bool empty() const { return list_.empty(); }
    // Appends `suffix` to the message of every problem whose subject `covers`; whether any did.
    template <typename Covers>
    bool append_where(Covers covers, const std::string& suffix) {
        bool any = false;
        for (auto& p : list_)
            if (covers(p.subject)) p.message += suffix, any = true;
        return any;
    }
    std::vector<PreflightProblem> take() { return std::move(list_); }

private:
    std::vector<PreflightProblem> list_;
};

// "config field 'x': must be ..." → "must be ..." (the subject already names the field).
std::string without_field_prefix(const ConfigError& e);

// The parsed config when the document, less its bad fields, parses; and the problems found.
struct ConfigCheck {
    std::optional<ExperimentConfig> config;
    ConfigProblems problems;
};
ConfigCheck check_config(nlohmann::json document);

// Every variant's effective config and its method (name and options). Throws ConfigError naming the
// field, for a variant prefixed with its origin, e.g. "variants[2].set.method.name". Front ends call
// it before starting a job.
void validate_experiment(const ExperimentConfig& config);

// check_config, then the parsed config or PreflightError listing every config problem. No files are
// read. For `lorica-cli config`.
ExperimentConfig preflight_config(const nlohmann::json& document);

}  // namespace lorica
