#pragma once
// The samples of one run: the foundation task and every stream task, train and test, built once from
// the raw data set. In-memory data sets (Fashion-MNIST, CIFAR at 32 px) become float tensors (the
// embedded default is ~60 MB of float32); streamed ones (image folders, file lists, CIFAR at a larger
// backbone) become StreamedSamples over the split's images (streamed_samples.h): one decoded-image
// cache per split (data.cache_mb in all, half each) and one pool of data.workers decoder threads
// for the run, the train transform for training batches and the test transform for evaluation.
//
// Image selection, per class, in data-set order:
//   foundation train: the first foundation.train_per_class images of each foundation class
//   stream train:     the next data.train_per_class images (classes outside the foundation start at 0)
//   test:             the first data.test_per_class test images of each class (the foundation test set
//                     and the stream tasks use the same images; stream tasks see them in their domain)
// Pixels are scaled to [0, 1] (streamed: transformed to backbone.image_size first), the task's domain
// transform is applied, then (x − mean) / std.

#include <memory>
#include <vector>

#include <torch/types.h>

#include "engine/config/experiment_config.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/sample_source.h"
#include "engine/stream/stream_spec.h"

namespace lorica {

struct LabeledImages {
    std::shared_ptr<SampleSource> samples;  // batches of float32 [B, C, H, W], normalised; null when empty
    torch::Tensor labels;                   // int64 [N], original data-set labels
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
