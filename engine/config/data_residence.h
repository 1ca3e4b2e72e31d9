#pragma once
// Where a configured data set's images are during a run — the one statement of the rule that the
// loaders (raw_dataset.h), the foundation step's cache key and the GUI's "Prepare data set…" read:
//
//   fashion-mnist   held in memory (its 28 × 28 IDX images; another backbone.image_size is an error)
//   cifar10/100     held in memory while backbone.image_size ≤ 32 (their records' size); streamed —
//                   the 32 × 32 records resized per batch — when the backbone is larger
//   image-folder    streamed (files decoded per batch)
//
// Held in memory: every image an 8-bit tensor at the backbone's size (TensorSamples), nothing to
// decode, so nothing to prepare (data.prepared must stay empty). Streamed: per-batch decoding on
// background threads (streamed_samples.h), or a prepared set (data.prepared). Torch-free.

namespace lorica {

struct DataConfig;      // experiment_config.h
struct BackboneConfig;  // experiment_config.h

// True when `data.dataset`'s images are streamed at `backbone.image_size`, false when they are held
// in memory. Reads data.dataset and backbone.image_size only.
bool data_is_streamed(const DataConfig& data, const BackboneConfig& backbone);

}  // namespace lorica
