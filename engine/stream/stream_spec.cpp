#include "engine/stream/stream_spec.h"

#include "engine/stream/class_order.h"

#include <algorithm>
#include <filesystem>
#include <numeric>

namespace lorica {

std::string TaskSpec::name() const {
    if (!dataset.empty())
        return "t" + std::to_string(index) + " " + dataset + " (" + std::to_string(classes.size()) + " classes)";
    std::string s = "t" + std::to_string(index) + " " + domain + " {";
    for (size_t i = 0; i < classes.size(); ++i) s += (i ? "," : "") + std::to_string(classes[i]);
    return s + "}";
}

bool trains_foundation(const ExperimentConfig& config) {
    return config.foundation.source == FoundationSource::train && config.foundation.enabled;
}

bool has_foundation_task(const ExperimentConfig& config) {
    return trains_foundation(config) || config.foundation.source == FoundationSource::weights;
}

int StreamSpec::last_head(int task) const {
    int last = 0;
    for (const TaskSpec& t : tasks)
        if (t.index <= task) last = std::max(last, t.head);
    return last;
}

int first_entry_of_dataset(const StreamConfig& stream, size_t index) {
    const DatasetTaskConfig& entry = stream.datasets.at(index);
    for (size_t i = 0; i < index; ++i) {
        const DatasetTaskConfig& other = stream.datasets[i];
        if (other.dataset == entry.dataset && other.root == entry.root && other.file_list == entry.file_list)
            return static_cast<int>(i);
    }
    return static_cast<int>(index);
}

std::string dataset_task_name(const DatasetTaskConfig& task) {
    if (!task.name.empty()) return task.name;
    std::filesystem::path root(task.root);
    while (!root.empty() && root.filename().empty()) root = root.parent_path();  // "cars/" → "cars"
    if (!root.filename().empty()) return root.filename().string();
    return std::string(name_of(kDatasetNames, task.dataset));
}

StreamSpec make_dataset_stream_spec(const ExperimentConfig& config, int64_t seed,
                                    const std::vector<int>& task_classes) {
    StreamSpec spec;
    spec.type = StreamType::datasets;
    LegacyRandomState rng(config.stream.class_order_seed.value_or(seed));
    spec.patch_permutation = rng.permutation(16);
    int offset = 0;
    for (size_t t = 0; t < task_classes.size(); ++t) {
        const DatasetTaskConfig* entry = t < config.stream.datasets.size() ? &config.stream.datasets[t] : nullptr;
        TaskSpec task;
        task.index = static_cast<int>(t);
        task.classes.resize(static_cast<size_t>(task_classes[t]));
        std::iota(task.classes.begin(), task.classes.end(), 0);
        task.epochs = entry && entry->epochs > 0 ? entry->epochs : config.train.epochs;
        task.dataset = entry ? dataset_task_name(*entry) : "t" + std::to_string(t);
        const int first = entry ? first_entry_of_dataset(config.stream, t) : static_cast<int>(t);
        if (first < static_cast<int>(t)) {  // a data set seen before: its head and labels again
            task.head = spec.tasks[static_cast<size_t>(first)].head;
            task.label_offset = spec.tasks[static_cast<size_t>(first)].label_offset;
        } else {
            task.head = spec.num_heads++;
            task.label_offset = offset;
            offset += task_classes[t];
        }
        spec.tasks.push_back(std::move(task));
    }
    spec.num_classes = offset;
    return spec;
}

StreamSpec make_stream_spec(const ExperimentConfig& config, int64_t seed, int num_classes) {
    const StreamConfig& sc = config.stream;
    if (sc.type == StreamType::datasets)
        return make_dataset_stream_spec(config, seed, std::vector<int>(static_cast<size_t>(sc.tasks), num_classes));
    StreamSpec spec;
    spec.type = sc.type;
    spec.num_classes = num_classes;
    LegacyRandomState rng(config.stream.class_order_seed.value_or(seed));
    spec.class_order = rng.permutation(num_classes);
    spec.patch_permutation = rng.permutation(16);

    const int k = sc.classes_per_task;
    if (sc.type == StreamType::class_incremental && int64_t(sc.tasks) * k > num_classes)
        throw ConfigError("stream.tasks", std::to_string(sc.tasks) + " tasks × " + std::to_string(k) +
                                              " classes exceed the data set's " + std::to_string(num_classes) +
                                              " classes");
    if (k > num_classes)
        throw ConfigError("stream.classes_per_task",
                          "exceeds the data set's " + std::to_string(num_classes) + " classes");
    if (trains_foundation(config)) {
        if (config.foundation.classes > num_classes)
            throw ConfigError("foundation.classes",
                              "exceeds the data set's " + std::to_string(num_classes) + " classes");
        spec.foundation_classes.assign(spec.class_order.begin(), spec.class_order.begin() + config.foundation.classes);
        spec.foundation_head_classes = spec.foundation_classes;
    }
    for (int t = 0; t < sc.tasks; ++t) {
        TaskSpec task;
        task.index = t;
        const int first = sc.type == StreamType::class_incremental ? t * k : 0;
        task.classes.assign(spec.class_order.begin() + first, spec.class_order.begin() + first + k);
        task.domain = name_of(kDomainTransformNames,
                              sc.domains.empty() ? DomainTransform::identity : sc.domains[t % sc.domains.size()]);
        task.head = sc.type == StreamType::class_incremental ? t : 0;
        task.epochs = config.train.epochs;
        spec.tasks.push_back(task);
    }
    spec.num_heads = sc.type == StreamType::class_incremental ? sc.tasks : 1;
    return spec;
}

}  // namespace lorica
