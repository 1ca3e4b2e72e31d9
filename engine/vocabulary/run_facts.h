#pragma once
// RunFacts: what a front end needs to know about a run beyond its events — the method, the variant,
// the stream's shape, the epochs of each task, the primary head mode and the data set's class names —
// as typed values, built once from the run's effective config (run_facts_of_config.h) and carried
// on RunStarted and stored with the run (runs.facts_json, engine/store/run_facts_json.h). No front
// end reads these from the stored config's JSON text.
//
// A value type (no pointers), copied across threads with the events.

#include <string>
#include <vector>

#include "engine/vocabulary/head_mode.h"
#include "engine/vocabulary/stream_type.h"

namespace lorica {

struct RunFacts {
    std::string method;   // the config's method.name (the key of its MethodDeclaration)
    std::string variant;  // the experiment variant's label; "" when the experiment has none
    StreamType stream_type = StreamType::class_incremental;
    int tasks = 0;             // stream tasks (foundation excluded)
    int classes_per_task = 0;  // class- and domain-incremental streams; 0 for data-set streams (each has its own)
    // [tasks]: the epochs each task trains (a data-set stream's entry may set its own; else train.epochs).
    std::vector<int> epochs_per_task;
    // The head mode a run's summaries use: task_il when stream.task_incremental is set or the run
    // evaluates task-IL only (eval.class_il = false), else class_il.
    HeadMode primary_head_mode = HeadMode::class_il;
    std::string dataset;  // data.dataset's spelling ("cifar100"); "" when unknown
    // [classes] the names of data.dataset's classes by label (CIFAR-100: by data.cifar100_labels);
    // empty for image folders (their folders name the classes) and unknown data sets.
    std::vector<std::string> class_names;
    std::string backbone;  // backbone.preset ("tiny", "vit_base_patch16_224", "resnet50", ...)

    // The epochs of stream task `task`; 0 when it is out of range.
    int epochs_of(int task) const {
        return task >= 0 && task < static_cast<int>(epochs_per_task.size()) ? epochs_per_task[task] : 0;
    }
    bool operator==(const RunFacts&) const = default;
};

}  // namespace lorica
