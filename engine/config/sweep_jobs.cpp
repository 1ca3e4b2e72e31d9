#include "engine/config/sweep_jobs.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace lorica {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string job_name(int index, size_t count) {
    int width = 4;
    for (size_t n = count > 0 ? count - 1 : 0; n >= 10000; n /= 10) ++width;
    char buf[32];
    std::snprintf(buf, sizeof buf, "job-%0*d", width, index);
    return buf;
}

// Field accessors whose errors name the jobs.json file and the field.
struct PlanReader {
    const std::string& source;
    [[noreturn]] void fail(const std::string& field, const std::string& message) const {
        throw ConfigError(field, message + " (in " + source + ")");
    }
    // Rethrows a nested ConfigError (a job's config, the launcher section) under `prefix`.
    [[noreturn]] void fail_nested(const std::string& prefix, const ConfigError& error) const {
        std::string message = error.what();
        if (const auto pos = message.find("': "); !error.field().empty() && pos != std::string::npos)
            message = message.substr(pos + 3);  // drop the inner "config field '...': "
        const std::string field =
            prefix.empty() ? error.field() : prefix + (error.field().empty() ? "" : "." + error.field());
        fail(field, message);
    }
    const json& at(const json& object, const std::string& key, const std::string& field) const {
        if (!object.is_object()) fail(field, "must be an object");
        auto it = object.find(key);
        if (it == object.end()) fail(field.empty() ? key : field + "." + key, "is missing");
        return *it;
    }
    std::string text(const json& object, const std::string& key, const std::string& field) const {
        const json& v = at(object, key, field);
        if (!v.is_string()) fail(field + "." + key, "must be a string, got " + v.dump());
        return v.get<std::string>();
    }
    int64_t integer(const json& object, const std::string& key, const std::string& field, int64_t min) const {
        const json& v = at(object, key, field);
        if (!v.is_number_integer() || v.get<int64_t>() < min)
            fail(field + "." + key, "must be an integer ≥ " + std::to_string(min) + ", got " + v.dump());
        return v.get<int64_t>();
    }
};

}  // namespace

int threads_per_job(const ExperimentConfig& config, const LauncherSettings& launcher) {
    if (launcher.cpus_per_task > 0) return launcher.cpus_per_task;
    if (config.threads > 0) return config.threads;
    return 1;
}

SweepPlan plan_sweep(const ExperimentConfig& config, const LauncherSettings& launcher, std::string experiment_uuid) {
    SweepPlan plan;
    plan.experiment_uuid = std::move(experiment_uuid);
    plan.name = config.name;
    plan.experiment_config = to_json(config);
    plan.seeds = config.seeds;
    plan.rank_sweep = config.sweep.field == "method.rank";
    plan.threads_per_job = threads_per_job(config, launcher);
    plan.launcher = launcher;
    const std::vector<ExperimentVariant> variants = expand_variants(config);
    if (has_variants(config))
        for (const auto& v : variants) plan.variants.push_back(v.label);
    const size_t count = variants.size() * config.seeds.size();
    for (const ExperimentVariant& v : variants) {
        for (size_t s = 0; s < v.config.seeds.size(); ++s) {
            SweepJob job;
            job.index = static_cast<int>(plan.jobs.size());
            job.name = job_name(job.index, count);
            job.variant_index = v.index;
            job.variant = v.label;
            job.sweep_field = v.sweep_field;
            job.sweep_value = v.sweep_value;
            job.rank_varies = v.rank_varies;
            job.seed_index = static_cast<int>(s);
            job.seed = v.config.seeds[s];
            job.config = v.config;
            job.config.seeds = {job.seed};
            plan.jobs.push_back(std::move(job));
        }
    }
    return plan;
}

json to_json(const SweepPlan& plan) {
    json jobs = json::array();
    for (const SweepJob& j : plan.jobs)
        jobs.push_back({{"index", j.index},
                        {"name", j.name},
                        {"variant_index", j.variant_index},
                        {"variant", j.variant},
                        {"sweep_field", j.sweep_field},
                        {"sweep_value", j.sweep_value},
                        {"rank_varies", j.rank_varies},
                        {"seed_index", j.seed_index},
                        {"seed", j.seed},
                        {"config", to_json(j.config)}});
    return {{"format_version", SweepPlan::kFormatVersion},
            {"experiment",
             {{"uuid", plan.experiment_uuid},
              {"name", plan.name},
              {"config", plan.experiment_config},
              {"config_hash", config_hash(plan.experiment_config)},
              {"seeds", plan.seeds},
              {"variants", plan.variants},
              {"rank_sweep", plan.rank_sweep}}},
            {"threads_per_job", plan.threads_per_job},
            {"launcher", to_json(plan.launcher)},
            {"jobs", jobs}};
}

SweepPlan sweep_plan_from_json(const json& doc, const std::string& source) {
    const PlanReader r{source};
    if (!doc.is_object()) r.fail("", "a sweep's jobs.json must be a JSON object");
    const int64_t version = r.integer(doc, "format_version", "", 1);
    if (version > SweepPlan::kFormatVersion)
        r.fail("format_version", "is " + std::to_string(version) + ", newer than this Lorica reads (" +
                                     std::to_string(SweepPlan::kFormatVersion) + ")");
    SweepPlan plan;
    const json& e = r.at(doc, "experiment", "");
    plan.experiment_uuid = r.text(e, "uuid", "experiment");
    plan.name = r.text(e, "name", "experiment");
    plan.experiment_config = r.at(e, "config", "experiment");
    try {
        (void)parse_experiment_config(plan.experiment_config);
    } catch (const ConfigError& error) {
        r.fail_nested("experiment.config", error);
    }
    const json& seeds = r.at(e, "seeds", "experiment");
    const json& variants = r.at(e, "variants", "experiment");
    try {
        plan.seeds = seeds.get<std::vector<int64_t>>();
        plan.variants = variants.get<std::vector<std::string>>();
    } catch (const json::exception&) {
        r.fail("experiment.seeds", "seeds must be integers and variants strings");
    }
    const json& rank_sweep = r.at(e, "rank_sweep", "experiment");
    if (!rank_sweep.is_boolean()) r.fail("experiment.rank_sweep", "must be true or false");
    plan.rank_sweep = rank_sweep.get<bool>();
    plan.threads_per_job = static_cast<int>(r.integer(doc, "threads_per_job", "", 1));
    try {
        plan.launcher = parse_launcher_settings(r.at(doc, "launcher", ""));
    } catch (const ConfigError& error) {
        r.fail_nested("", error);
    }
    const json& jobs = r.at(doc, "jobs", "");
    if (!jobs.is_array() || jobs.empty()) r.fail("jobs", "must be a non-empty list");
    for (size_t i = 0; i < jobs.size(); ++i) {
        const std::string field = "jobs[" + std::to_string(i) + "]";
        const json& j = jobs[i];
        SweepJob job;
        job.index = static_cast<int>(r.integer(j, "index", field, 0));
        if (job.index != static_cast<int>(i)) r.fail(field + ".index", "must be " + std::to_string(i));
        job.name = r.text(j, "name", field);
        if (job.name.empty() || job.name.find_first_of("/\\ ") != std::string::npos)
            r.fail(field + ".name", "must be a plain file name, got '" + job.name + "'");
        job.variant_index = static_cast<int>(r.integer(j, "variant_index", field, 0));
        job.variant = r.text(j, "variant", field);
        job.sweep_field = r.text(j, "sweep_field", field);
        job.sweep_value = r.text(j, "sweep_value", field);
        // Absent in plans written before variants could set the rank: only a rank sweep did then.
        if (const auto it = j.find("rank_varies"); it != j.end() && it->is_boolean()) job.rank_varies = it->get<bool>();
        job.seed_index = static_cast<int>(r.integer(j, "seed_index", field, 0));
        job.seed = r.integer(j, "seed", field, 0);
        try {
            job.config = parse_experiment_config(r.at(j, "config", field));
        } catch (const ConfigError& error) {
            r.fail_nested(field + ".config", error);
        }
        if (job.config.seeds.size() != 1 || job.config.seeds.front() != job.seed)
            r.fail(field + ".config.seeds", "must be [" + std::to_string(job.seed) + "], the job's seed");
        if (has_variants(job.config)) r.fail(field + ".config", "a job's config must not have variants or a sweep");
        plan.jobs.push_back(std::move(job));
    }
    return plan;
}

void write_sweep_plan(const SweepPlan& plan, const std::string& path) {
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp);
        out << to_json(plan).dump(2) << "\n";
        if (!out) throw std::runtime_error("cannot write sweep plan '" + tmp + "'");
    }
    std::error_code ec;
    fs::rename(tmp, path, ec);
    if (ec) throw std::runtime_error("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
}

SweepPlan read_sweep_plan(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError("", "cannot open sweep jobs file '" + path + "'");
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::parse_error& e) {
        throw ConfigError("", "sweep jobs file '" + path + "' is not valid JSON: " + e.what());
    }
    return sweep_plan_from_json(doc, path);
}

ExperimentStarted experiment_started(const SweepPlan& plan) {
    return ExperimentStarted{plan.name, plan.experiment_config.dump(), config_hash(plan.experiment_config), plan.seeds,
                             plan.variants};
}

ExperimentVariant job_variant(const SweepJob& job) {
    ExperimentVariant v;
    v.index = job.variant_index;
    v.label = job.variant;
    v.sweep_field = job.sweep_field;
    v.sweep_value = job.sweep_value;
    v.rank_varies = job.rank_varies;
    v.config = job.config;
    return v;
}

std::string SweepLayout::jobs_file() const { return (fs::path(dir) / "jobs.json").string(); }
std::string SweepLayout::sbatch_file() const { return (fs::path(dir) / "sweep.sbatch").string(); }
std::string SweepLayout::submissions_file() const { return (fs::path(dir) / "submissions.json").string(); }
std::string SweepLayout::shards_dir() const { return (fs::path(dir) / "shards").string(); }
std::string SweepLayout::shard(const SweepJob& job) const {
    return (fs::path(shards_dir()) / (job.name + ".sqlite")).string();
}
std::string SweepLayout::status_dir() const { return (fs::path(dir) / "status").string(); }
std::string SweepLayout::status(const SweepJob& job) const {
    return (fs::path(status_dir()) / (job.name + ".json")).string();
}
std::string SweepLayout::logs_dir() const { return (fs::path(dir) / "logs").string(); }
std::string SweepLayout::local_log(const SweepJob& job) const {
    return (fs::path(logs_dir()) / (job.name + ".log")).string();
}

}  // namespace lorica
