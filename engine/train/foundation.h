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

// foundation.source = weights: the outputs of the weights file's own head (backbone.weights; the
// tensor "<head>.weight" [classes, features], head = timm's "head" for a ViT, "fc" for a ResNet).
// Throws ConfigError("backbone.weights") when the file cannot be read or has no head.
int64_t weights_head_classes(const BackboneConfig& backbone);

// foundation.source = weights, once the head is loaded: spec.foundation_head_classes = 0 .. N − 1 for
// a head of N outputs. Throws ConfigError("foundation.data.root") when foundation.data has a label the
// head lacks (label ≥ N).
void bind_weights_foundation(StreamData& data, int64_t head_classes);

// Trains (or loads) `model` (on CPU when called; returned on CPU). Emits FoundationProgress and an
// ArtifactWritten for the checkpoint. Throws Cancelled on cancel.
void prepare_foundation(Backbone model, const ExperimentConfig& config, const StreamData& data, int64_t seed,
                        torch::Device device, EventListener& events, CancelToken& cancel);

}  // namespace lorica
