#pragma once
// The one serializer of a run's typed facts (engine/vocabulary/run_facts.h) in the results store:
// runs.facts_json (schema version 8) holds them as a JSON object, written at run start and read back
// by the run readers. Runs stored before version 8 get theirs derived once from their stored config
// by the migration (backfill_run_facts), so no reader, CLI or GUI parses a run's config for facts.
//
// facts_json: {"method": "sd-lora", "variant": "rank=4", "stream_type": "class-incremental",
//              "tasks": 5, "classes_per_task": 2, "epochs_per_task": [3, 3, 3, 3, 3],
//              "primary_head_mode": "class_il", "dataset": "fashion-mnist",
//              "class_names": ["T-shirt/top", ...], "backbone": "tiny"}
// Unknown keys are ignored and missing ones keep RunFacts' defaults, so a newer or older writer's text
// still reads.

#include <string>

#include "engine/store/sqlite_db.h"
#include "engine/vocabulary/run_facts.h"

namespace lorica {

std::string run_facts_json(const RunFacts& facts);

// The facts in `text`; "" or text that is not a JSON object reads as RunFacts{}.
RunFacts parse_run_facts_json(const std::string& text);

// The facts of a run stored without them: its stored config parsed as this Lorica parses configs
// (run_facts_of_config.h), with the run's own method and variant columns. A config this Lorica no
// longer accepts gives only the method and variant (and the defaults).
RunFacts run_facts_of_stored_config(const std::string& config_json, const std::string& method,
                                    const std::string& variant);

// Migration 8's backfill: writes runs.facts_json of every run whose facts_json is '' from its
// config_json, method and variant (run_facts_of_stored_config). Runs inside the migration's transaction.
void backfill_run_facts(Database& db);

}  // namespace lorica
