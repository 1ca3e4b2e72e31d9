#pragma once
// An experiment: the config run once per seed (ExperimentStarted, then one run per seed, then
// ExperimentFinished). The raw data set is loaded once for all seeds. A failed seed does not stop
// the others; a cancel stops the experiment.

#include "engine/config/experiment_config.h"
#include "engine/train/cancel_token.h"
#include "engine/train/event_listener.h"

namespace lorica {

// Returns the experiment's status: finished when every run finished, failed when any failed,
// cancelled when cancelled. Never throws for training errors (they are reported as events);
// data-set errors before the first run are reported as a failed run of the first seed.
RunStatus run_experiment(const ExperimentConfig& config, EventListener& events, CancelToken& cancel);

}  // namespace lorica
