#include "engine/stream/stream_spec.h"

#include "engine/stream/class_order.h"

namespace lorica {

std::string TaskSpec::name() const {
    std::string s = "t" + std::to_string(index) + " " + domain + " {";
    for (size_t i = 0; i < classes.size(); ++i) s += (i ? "," : "") + std::to_string(classes[i]);
    return s + "}";
}

StreamSpec make_stream_spec(const ExperimentConfig& config, int64_t seed, int num_classes) {
    const StreamConfig& sc = config.stream;
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
    if (config.foundation.enabled) {
        if (config.foundation.classes > num_classes)
            throw ConfigError("foundation.classes",
                              "exceeds the data set's " + std::to_string(num_classes) + " classes");
        spec.foundation_classes.assign(spec.class_order.begin(), spec.class_order.begin() + config.foundation.classes);
    }
    for (int t = 0; t < sc.tasks; ++t) {
        TaskSpec task;
        task.index = t;
        const int first = sc.type == StreamType::class_incremental ? t * k : 0;
        task.classes.assign(spec.class_order.begin() + first, spec.class_order.begin() + first + k);
        task.domain = name_of(kDomainTransformNames,
                              sc.domains.empty() ? DomainTransform::identity : sc.domains[t % sc.domains.size()]);
        task.head = sc.type == StreamType::class_incremental ? t : 0;
        spec.tasks.push_back(task);
    }
    spec.num_heads = sc.type == StreamType::class_incremental ? sc.tasks : 1;
    return spec;
}

}  // namespace lorica
