#include "engine/services/data_preparation.h"

#include "engine/data/prepared/prepared_sources.h"
#include "engine/data/raw_dataset.h"

namespace lorica {

PrepareSummary prepare_config_data(const ExperimentConfig& config, const std::string& dir,
                                   const PrepareOptions& options) {
    if (dir.empty()) throw ConfigError("data.prepared", "no folder given to prepare into");
    const RawDataset raw = load_raw_dataset(config);
    const std::vector<PrepareSource> sources = prepared_sources(config, raw);
    if (sources.empty())
        throw ConfigError("data.dataset", std::string(name_of(kDatasetNames, config.data.dataset)) + " at " +
                                              std::to_string(config.backbone.image_size) +
                                              " px is held in memory; nothing to prepare");
    PrepareOptions prepared = options;
    prepared.transform = prepared_transform(config);
    return prepare_images(dir, sources, prepared);
}

}  // namespace lorica
