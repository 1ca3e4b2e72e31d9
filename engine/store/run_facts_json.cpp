#include "engine/store/run_facts_json.h"

#include <exception>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"
#include "engine/config/run_facts_of_config.h"

namespace lorica {

std::string run_facts_json(const RunFacts& facts) {
    const nlohmann::json j = {{"method", facts.method},
                              {"variant", facts.variant},
                              {"stream_type", name_of(kStreamTypeNames, facts.stream_type)},
                              {"tasks", facts.tasks},
                              {"classes_per_task", facts.classes_per_task},
                              {"epochs_per_task", facts.epochs_per_task},
                              {"primary_head_mode", to_string(facts.primary_head_mode)},
                              {"dataset", facts.dataset},
                              {"class_names", facts.class_names},
                              {"backbone", facts.backbone}};
    return j.dump();
}

RunFacts parse_run_facts_json(const std::string& text) {
    RunFacts facts;
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return facts;
    auto text_of = [&](const char* key, std::string& out) {
        if (auto it = j.find(key); it != j.end() && it->is_string()) out = it->get<std::string>();
    };
    auto int_of = [&](const char* key, int& out) {
        if (auto it = j.find(key); it != j.end() && it->is_number_integer()) out = it->get<int>();
    };
    text_of("method", facts.method);
    text_of("variant", facts.variant);
    std::string spelled;
    text_of("stream_type", spelled);
    if (auto type = value_of(kStreamTypeNames, spelled)) facts.stream_type = *type;
    int_of("tasks", facts.tasks);
    int_of("classes_per_task", facts.classes_per_task);
    if (auto it = j.find("epochs_per_task"); it != j.end() && it->is_array())
        for (const auto& e : *it)
            if (e.is_number_integer()) facts.epochs_per_task.push_back(e.get<int>());
    spelled.clear();
    text_of("primary_head_mode", spelled);
    if (spelled == to_string(HeadMode::task_il)) facts.primary_head_mode = HeadMode::task_il;
    text_of("dataset", facts.dataset);
    if (auto it = j.find("class_names"); it != j.end() && it->is_array())
        for (const auto& e : *it) facts.class_names.push_back(e.is_string() ? e.get<std::string>() : std::string());
    text_of("backbone", facts.backbone);
    return facts;
}

RunFacts run_facts_of_stored_config(const std::string& config_json, const std::string& method,
                                    const std::string& variant) {
    RunFacts facts;
    const nlohmann::json document = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
    if (document.is_object()) {
        try {
            facts = run_facts(parse_experiment_config(document));
        } catch (const std::exception&) {
            facts = RunFacts{};  // a config this Lorica refuses: only what the run's columns say
        }
    }
    facts.method = method;
    facts.variant = variant;
    return facts;
}

void backfill_run_facts(Database& db) {
    std::vector<std::pair<int64_t, std::string>> filled;
    {
        Statement select(db, "SELECT id, config_json, method, variant FROM runs WHERE facts_json = ''");
        while (select.step())
            filled.emplace_back(select.column_int64(0),
                                run_facts_json(run_facts_of_stored_config(select.column_text(1), select.column_text(2),
                                                                          select.column_text(3))));
    }
    Statement update(db, "UPDATE runs SET facts_json = ? WHERE id = ?");
    for (const auto& [id, text] : filled) {
        update.bind_text(1, text).bind_int64(2, id);
        update.execute();
    }
}

}  // namespace lorica
