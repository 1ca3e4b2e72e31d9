#pragma once
// What a task stream is, before any image is touched: which classes each task holds, under which
// domain transform, which head it trains, and which classes the foundation task uses.
//
// Class order: `order = numpy.random.RandomState(s).permutation(C)` with s = stream.class_order_seed
// (default: the run's seed). The same generator then draws `permutation(16)`, the fixed shuffle of the
// 4×4 patch grid used by the `patch_permute` domain.
//
// class-incremental:  task t = classes order[t·k, t·k + k), head t
// domain-incremental: task t = classes order[0, k), head 0, domain domains[t mod |domains|]
// foundation:         classes order[0, foundation.classes) (upright, identity domain)

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"

namespace lorica {

struct TaskSpec {
    int index = 0;
    std::vector<int> classes;  // original data-set labels, in order (local label = position)
    std::string domain = "identity";
    int head = 0;  // index into the TaskHeads

    std::string name() const;  // "t2 rot180 {3,7}"
};

struct StreamSpec {
    StreamType type = StreamType::class_incremental;  // config.stream.type
    std::vector<int> class_order;                     // permutation of [0, num_classes)
    std::vector<int> foundation_classes;              // empty when the foundation step is off
    std::vector<TaskSpec> tasks;
    std::vector<int> patch_permutation;  // 16 entries: new position p takes patch patch_permutation[p]
    int num_classes = 0;
    int num_heads = 0;
};

// Throws ConfigError when the stream does not fit into `num_classes`.
StreamSpec make_stream_spec(const ExperimentConfig& config, int64_t seed, int num_classes);

}  // namespace lorica
