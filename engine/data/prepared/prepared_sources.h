#pragma once
// Which images of a config are prepared, and at which size: the streamed splits of its loaded data
// (raw_dataset.h) — data.*'s train and test stores, each stream.datasets entry's (a data set listed
// twice is prepared once), foundation.data's — and the transform they are stored at.

#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/data/prepared/prepared_writer.h"

namespace lorica {

struct RawDataset;  // raw_dataset.h (this header stays torch-free: the GUI includes it)

// data.resize_size, or backbone.image_size · 8 / 7 when 0 (the streamed test transform's resize).
int64_t resolved_resize_size(const ExperimentConfig& config);
PreparedTransform prepared_transform(const ExperimentConfig& config);

// Every streamed split of `raw` (empty when the data is held in memory), without duplicates.
std::vector<PrepareSource> prepared_sources(const ExperimentConfig& config, const RawDataset& raw);

}  // namespace lorica
