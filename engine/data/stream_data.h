#pragma once
// The tensors of one run: the foundation task and every stream task, train and test, built once from
// the raw data set (all in memory: the embedded default is ~60 MB of float32).
//
// Image selection, per class, in data-set order:
//   foundation train: the first foundation.train_per_class images of each foundation class
//   stream train:     the next data.train_per_class images (classes outside the foundation start at 0)
//   test:             the first data.test_per_class test images of each class (the foundation test set
//                     and the stream tasks use the same images; stream tasks see them in their domain)
// Pixels are scaled to [0, 1], the task's domain transform is applied, then (x − mean) / std.

#include <vector>

#include <torch/types.h>

#include "engine/config/experiment_config.h"
#include "engine/data/raw_dataset.h"
#include "engine/stream/stream_spec.h"

namespace lorica {

struct LabeledImages {
    torch::Tensor images;  // float32 [N, C, H, W], normalised
    torch::Tensor labels;  // int64 [N], original data-set labels
    int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

struct TaskData {
    TaskSpec spec;
    LabeledImages train, test;
};

struct StreamData {
    StreamSpec spec;
    LabeledImages foundation_train, foundation_test;  // empty when the foundation step is off
    std::vector<TaskData> tasks;
    std::vector<std::string> class_names;
};

StreamData build_stream_data(const ExperimentConfig& config, const RawDataset& raw, int64_t seed);

// Maps original labels to positions in `classes` (label classes[i] → i); every label must be listed.
torch::Tensor local_labels(const torch::Tensor& labels, const std::vector<int>& classes);

}  // namespace lorica
