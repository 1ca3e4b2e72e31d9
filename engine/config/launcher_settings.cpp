#include "engine/config/launcher_settings.h"

#include "engine/config/json_object_reader.h"

namespace lorica {

const char* to_string(LauncherKind kind) { return kind == LauncherKind::slurm ? "slurm" : "local"; }

LauncherKind launcher_kind_from_string(const std::string& text) {
    if (text == "local") return LauncherKind::local;
    if (text == "slurm") return LauncherKind::slurm;
    throw ConfigError("launcher.kind", "'" + text + "' is not allowed (allowed: local, slurm)");
}

LauncherSettings parse_launcher_settings(const nlohmann::json& section) {
    LauncherSettings s;
    ObjectReader r(section, "launcher");
    std::string kind = to_string(s.kind);
    r.read("kind", kind, {"local", "slurm"});
    s.kind = launcher_kind_from_string(kind);
    r.read_int("jobs", s.jobs, 0, 4096);
    r.read_int("cpus_per_task", s.cpus_per_task, 0, 1024);
    r.read("partition", s.partition);
    r.read("time", s.time);
    r.read("mem", s.mem);
    r.read_int("gpus_per_task", s.gpus_per_task, 0, 64);
    r.read_int("max_parallel", s.max_parallel, 0, 1000000);
    r.read("account", s.account);
    r.read("qos", s.qos);
    r.read("sbatch", s.sbatch_extra);
    r.finish();
    const auto blank = [](const std::string& v) { return v.find_first_of(" \t\n\r") != std::string::npos; };
    for (const auto& [key, value] : {std::pair<const char*, const std::string*>{"partition", &s.partition},
                                     {"time", &s.time},
                                     {"mem", &s.mem},
                                     {"account", &s.account},
                                     {"qos", &s.qos}})
        if (blank(*value))
            throw ConfigError(std::string("launcher.") + key, "must not contain white space, got '" + *value + "'");
    for (size_t i = 0; i < s.sbatch_extra.size(); ++i)
        if (s.sbatch_extra[i].rfind("-", 0) != 0 || s.sbatch_extra[i].find('\n') != std::string::npos)
            throw ConfigError("launcher.sbatch[" + std::to_string(i) + "]",
                              "must be one sbatch option starting with '-' (e.g. --constraint=a100), got '" +
                                  s.sbatch_extra[i] + "'");
    return s;
}

nlohmann::json to_json(const LauncherSettings& s) {
    return {{"kind", to_string(s.kind)},
            {"jobs", s.jobs},
            {"cpus_per_task", s.cpus_per_task},
            {"partition", s.partition},
            {"time", s.time},
            {"mem", s.mem},
            {"gpus_per_task", s.gpus_per_task},
            {"max_parallel", s.max_parallel},
            {"account", s.account},
            {"qos", s.qos},
            {"sbatch", s.sbatch_extra}};
}

}  // namespace lorica
