#pragma once
// The typed facts of a run (engine/vocabulary/run_facts.h), built once from its effective config:
// the trainer puts them on RunStarted, the store writes them beside the config, and a database
// written before they were stored derives them here from the stored config (run_facts_json.h).

#include "engine/config/experiment_config.h"
#include "engine/vocabulary/run_facts.h"

namespace lorica {

// method = method.name, variant "" (the experiment runner tags it), the stream's type, tasks and
// classes per task (0 for a data-set stream), epochs per task (stream.datasets[t].epochs, 0 meaning
// train.epochs), primary_head_mode, data.dataset and its class names (dataset_catalog.h), backbone.preset.
RunFacts run_facts(const ExperimentConfig& config);

// task_il when stream.task_incremental is set or only task-IL is evaluated (eval.class_il = false),
// else class_il: the mode a run's summaries and rank-sweep points use.
HeadMode primary_head_mode(const ExperimentConfig& config);

}  // namespace lorica
