#pragma once
// The foundation (pre-training) step: the backbone and its own head trained on the foundation task
// (foundation.classes classes, upright), cached as a checkpoint keyed by a hash of everything that
// determines it, so later runs with the same settings load it instead of training again.
//
// Cache file: <cache_dir>/foundation/<hash>.pt (LibTorch archive of the model's parameters and
// buffers), written to a temporary name and renamed, so a killed run never leaves half a file.

#include <string>

#include "engine/config/experiment_config.h"
#include "engine/data/stream_data.h"
#include "engine/model/backbone.h"
#include "engine/vocabulary/cancel_token.h"
#include "engine/vocabulary/event_listener.h"

namespace lorica {

// <cache_dir> resolved: config.cache_dir, else $XDG_CACHE_HOME/lorica, else ~/.cache/lorica.
std::string resolve_cache_dir(const ExperimentConfig& config);

// The cache key of the foundation step of a run with this seed (hex).
std::string foundation_hash(const ExperimentConfig& config, int64_t seed);

// Trains (or loads) `model` (on CPU when called; returned on CPU). Emits FoundationProgress and an
// ArtifactWritten for the checkpoint. Throws Cancelled on cancel.
void prepare_foundation(Backbone model, const ExperimentConfig& config, const StreamData& data, int64_t seed,
                        torch::Device device, EventListener& events, CancelToken& cancel);

}  // namespace lorica
