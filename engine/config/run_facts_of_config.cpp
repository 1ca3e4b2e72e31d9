#include "engine/config/run_facts_of_config.h"

#include "engine/config/dataset_catalog.h"

namespace lorica {

HeadMode primary_head_mode(const ExperimentConfig& config) {
    return config.stream.task_incremental || !config.eval.class_il ? HeadMode::task_il : HeadMode::class_il;
}

RunFacts run_facts(const ExperimentConfig& config) {
    RunFacts facts;
    facts.method = config.method.name;
    facts.stream_type = config.stream.type;
    const bool datasets = config.stream.type == StreamType::datasets;
    facts.tasks = datasets ? static_cast<int>(config.stream.datasets.size()) : config.stream.tasks;
    facts.classes_per_task = datasets ? 0 : config.stream.classes_per_task;
    for (int t = 0; t < facts.tasks; ++t) {
        const int own = datasets ? config.stream.datasets[static_cast<size_t>(t)].epochs : 0;
        facts.epochs_per_task.push_back(own > 0 ? own : config.train.epochs);
    }
    facts.primary_head_mode = primary_head_mode(config);
    const DatasetInfo& data = dataset_info(config.data.dataset);
    facts.dataset = std::string(data.name());
    facts.class_names = data.classes_of(config.data.cifar100_labels).names;
    facts.backbone = config.backbone.preset;
    return facts;
}

}  // namespace lorica
