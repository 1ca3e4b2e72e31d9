#pragma once
// A raw data set loaded before the run (by preflight.h), with the config sections it was loaded for,
// so run_experiment can use it instead of loading the same data again.

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"
#include "engine/data/raw_dataset.h"

namespace lorica {

// The config sections a loaded raw data set depends on (raw_dataset_key, raw_dataset.h): data and
// backbone, and stream.datasets / foundation.data where used. Equal keys = the same loaded data.
nlohmann::json dataset_key(const ExperimentConfig& config);

struct PreloadedData {
    nlohmann::json key;  // dataset_key of the config it was loaded for
    RawDataset raw;
};

}  // namespace lorica
