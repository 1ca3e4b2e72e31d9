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
//
// Prepared data (data.prepared = DIR, a folder of `lorica-cli prepare`): every streamed split reads
// its prepared set instead of decoding files — PreparedImages::open(DIR, split's store,
// prepared_transform(config)) when the stream is built, so a folder made from other data or another
// resize size fails here, before training — through PreparedSamples (prepared/prepared_samples.h):
// the same selection, crop boxes and flips from the same seeds, pixels equal up to the 8-bit rounding
// of the stored images. No decoded-image cache is made then. data.prepared on a data set held in
// memory (Fashion-MNIST, CIFAR at 32 px): ConfigError("data.prepared").
//
// Data-set streams (stream.type = datasets; raw.stream_tasks[t] is task t's data set):
//   train  per class the first stream.datasets[t].train_per_class images (0 = all; fewer when the
//          class has fewer), then, for subset_fraction f < 1, a random max(1, round(f · n)) of those n:
//          one torch::randperm(n) per data set, from derived_seed(run seed, SeedStream::task_subset, f0)
//          with f0 its first entry (the same on resume), and its entries with f < 1 take consecutive
//          parts of it in stream order, so two halves of a data set are disjoint (the forgetting
//          study's long stream); kept in data-set order. More than the data set has: ConfigError
//          naming stream.datasets[t].subset_fraction
//   test   per class the first stream.datasets[t].test_per_class images (0 = all)
//   labels the data set's own (0 .. n_t − 1); the stream's union label space adds TaskSpec::label_offset
//          (an entry of a data set seen before shares its head and offset, stream_spec.h)
//   every task's streamed splits share one decoder pool; each split's cache gets data.cache_mb / (2 T)
// Foundation task of foundation.source = weights: foundation.data's images (raw.foundation), the first
// foundation.data.test_per_class of each class (0 = all), labels = the head's outputs; no training
// images. spec.foundation_classes = the labels present, sorted; spec.foundation_head_classes is left
// empty here (the trainer fills it in from the loaded head: 0 .. N − 1).

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
    std::vector<std::string> class_names;  // by local label (position in spec.classes)
};

struct StreamData {
    StreamSpec spec;
    LabeledImages foundation_train, foundation_test;  // empty when the foundation step is off
    std::vector<TaskData> tasks;
    std::vector<std::string> class_names;  // by data-set label (data-set streams: the union, by offset label)
    std::vector<std::string> foundation_class_names;  // by foundation label (source = weights: head output)
};

StreamData build_stream_data(const ExperimentConfig& config, const RawDataset& raw, int64_t seed);

// Data-set streams: the training images of each task build_stream_data would build (the same
// selection, without building any sample source), for progress totals before the stream is built.
// Empty for class and domain streams.
std::vector<int64_t> task_train_sizes(const ExperimentConfig& config, const RawDataset& raw, int64_t seed);

// Maps original labels to positions in `classes` (label classes[i] → i); every label must be listed.
torch::Tensor local_labels(const torch::Tensor& labels, const std::vector<int>& classes);

}  // namespace lorica
