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
// datasets:           task t = the whole data set stream.datasets[t] (its classes 0 .. n_t − 1, its own
//                     labels), identity domain, epochs = stream.datasets[t].epochs or train.epochs, and
//                     its data set's head: a new head for a data set not seen before, the same head
//                     again for an entry of a data set an earlier entry named (same dataset, root and
//                     file_list: the forgetting study's long stream visits each data set twice, on
//                     halves, with the same task label). The stream's label space is the union of the
//                     heads' ones: head h's labels offset by label_offset = the classes of heads < h.
// foundation.source = weights: no foundation classes from the class order (class streams start at
//                     order[0]); the foundation task is the weights' own head, filled in from its data
//                     (stream_data.h)

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"

namespace lorica {

struct TaskSpec {
    int index = 0;
    std::vector<int> classes;  // original data-set labels, in order (local label = position)
    std::string domain = "identity";
    int head = 0;    // index into the TaskHeads
    int epochs = 0;  // epochs of the task's passes (train.epochs, or its data-set entry's own)
    // Data-set streams: the task's data set ("cars"; the entry's name or its root's folder) and where
    // its labels start in the stream's label space (label_offset + label; 0 for class streams).
    std::string dataset;
    int label_offset = 0;

    // "t2 rot180 {3,7}"; a data-set stream's task: "t1 cars (196 classes)"
    std::string name() const;
};

struct StreamSpec {
    StreamType type = StreamType::class_incremental;  // config.stream.type
    std::vector<int> class_order;                     // permutation of [0, num_classes)
    std::vector<int> foundation_classes;              // empty when the foundation step is off
    // The label of each output of the foundation head: foundation_classes (source = train), or 0 .. N − 1
    // for a weights file's head of N outputs (source = weights: foundation_classes are then the head
    // outputs that foundation.data has images of).
    std::vector<int> foundation_head_classes;
    std::vector<TaskSpec> tasks;
    std::vector<int> patch_permutation;  // 16 entries: new position p takes patch patch_permutation[p]
    int num_classes = 0;
    int num_heads = 0;

    // The highest head of tasks 0..task: the heads a class-IL evaluation after (or during) that task
    // spans. Task t's own head in class and domain streams; a data-set stream that returns to a data
    // set reuses its head, so the highest one may belong to an earlier task.
    int last_head(int task) const;
};

// Throws ConfigError when the stream does not fit into `num_classes`. For stream.type = datasets the
// tasks are those of make_dataset_stream_spec with `num_classes` classes each (a placeholder for
// callers that do not read the data sets, e.g. the training estimate).
StreamSpec make_stream_spec(const ExperimentConfig& config, int64_t seed, int num_classes);

// A data-set stream (stream.type = datasets): task t has task_classes[t] classes (its data set's).
StreamSpec make_dataset_stream_spec(const ExperimentConfig& config, int64_t seed, const std::vector<int>& task_classes);

// The first entry of stream.datasets that names the same data set as entry `index` (same dataset,
// root and file_list): `index` itself when no earlier one does.
int first_entry_of_dataset(const StreamConfig& stream, size_t index);

// The task's name in a data-set stream: the entry's name, else the last folder of its root, else the
// data set's name ("fashion-mnist").
std::string dataset_task_name(const DatasetTaskConfig& task);

// Whether the run trains a foundation step (foundation.source = train and foundation.enabled), and
// whether it has a foundation task at all (that, or foundation.source = weights).
bool trains_foundation(const ExperimentConfig& config);
bool has_foundation_task(const ExperimentConfig& config);

}  // namespace lorica
