#pragma once
// What front ends call to prepare a config's data (`lorica-cli prepare`, the GUI's "Prepare data
// set…"): loads the config's data sets as a run would (data.*, every stream.datasets entry,
// foundation.data), collects their streamed splits (prepared_sources) and writes them into `dir`
// (prepared_writer.h: resumable, cancellable, progress per image). Afterwards `data.prepared = dir`
// makes a run of this config read the prepared images.
//
// Errors: ConfigError naming the field (a missing data set, a config whose data is held in memory —
// Fashion-MNIST, CIFAR at 32 px — so there is nothing to prepare, a folder made from other data),
// DataError naming the file (an undecodable image, a full disk), Cancelled when `options.cancel` is
// requested (the folder is left for the next call to continue).

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/data/prepared/prepared_writer.h"

namespace lorica {

PrepareSummary prepare_config_data(const ExperimentConfig& config, const std::string& dir,
                                   const PrepareOptions& options);

}  // namespace lorica
