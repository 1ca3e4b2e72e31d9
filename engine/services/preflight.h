#pragma once
// Preflight: everything about an experiment's input that can be checked before it starts, checked
// before the experiment record is created, with every problem reported in one message.
//
// A front end calls `preflight_experiment` on the assembled config document (presets.h) — the CLI
// before it opens the results database, the GUI's job on its thread before its first event — and
// gets either a CheckedExperiment to run or a PreflightError listing the problems. Bad input thus
// never becomes a failed run in the database: `lorica-cli` exits 2 with the message, the GUI shows
// it (docs/bad-input.md).
//
// What is checked, in this order (each problem names the field or file, what was found, what is
// allowed):
//   1. config (engine/config/config_check.h, torch-free; preflight_config runs it alone): every field
//      (parse_experiment_config) and every variant's method and method.options (validate_experiment).
//      The parser stops at a field's first error; preflight then drops that field (so its default
//      applies) and parses again, to collect the errors of the other fields too (at most
//      kMaxConfigProblems).
//   2. device: resolvable here ("cuda" without a usable CUDA device is a problem).
//   3. data, once per distinct data section of the variants: the data set loads (root exists, the
//      layout is right, every IDX / CIFAR batch / file list is readable and well formed, every
//      image file of a streamed data set has a readable PNG/JPEG header — its pixels are decoded
//      only during the run —, the images match backbone.image_size (in memory) and in_channels),
//      data.normalize_mean has one
//      entry per channel, the stream fits the data set's classes, and every class has the images
//      the config takes from it (foundation.train_per_class, then data.train_per_class training
//      images, data.test_per_class test images) for every seed's class order.
//      Data-set streams: every stream.datasets[i] loads the same way (a problem names
//      stream.datasets[i].root or .file_list and the path; an entry without training images is one);
//      their per-class counts are caps, not demands. foundation.source = weights: foundation.data
//      loads (a class folder that is not an ImageNet-1k synset is named), backbone.weights has a head
//      ("head.weight" / ResNet "fc.weight"), and every foundation label is one of the head's outputs.
//      Every part is loaded, so every part's problem is reported.
//   4. backbone.weights: the file exists and loads into the configured backbone (safetensors header,
//      tensor names and shapes; io/timm_weights.h), checked on a freshly built model.
//   5. method.targets: each target matches at least one layer of the configured backbone.
//   6. what a preset requires (its "requires" key, config/preset_notes.h): a required path left empty
//      is a problem naming the field and what belongs there, and every problem reported for that
//      field gets the expectation appended ("data.root: data.root /x: no such folder (expected
//      there: the CUB-200 layout <root>/train/<class>/*.jpg ...)").
// Checks 3–5 are skipped for a section whose config fields already have problems (their values
// would be the defaults preflight substituted, not the user's).
//
// The data set loaded by check 3 for the first variant is kept in the CheckedExperiment and handed
// to the run (TrainingJob), so it is not loaded twice.
//
// Torch-free header (front ends include it next to spdlog); the loaded data travels opaquely.

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/config_check.h"  // check 1, PreflightError
#include "engine/config/experiment_config.h"
#include "engine/config/preset_notes.h"

namespace lorica {

struct PreloadedData;  // engine/services/preloaded_data.h

// An experiment that passed preflight: its parsed config, and the data set loaded for its first
// variant (opaque; consumed by TrainingJob / run_experiment).
struct CheckedExperiment {
    ExperimentConfig config;
    std::shared_ptr<const PreloadedData> data;
};

// Runs every check above on a config document; throws PreflightError listing every problem.
CheckedExperiment preflight_experiment(const nlohmann::json& document);
// The same for a parsed config (the GUI's editor holds one). A parsed config carries no preset notes
// (to_json drops them): pass those of the document it was parsed from, so what a preset requires is
// checked and its "expected there" text reaches the message as on the CLI.
CheckedExperiment preflight_experiment(const ExperimentConfig& config);
CheckedExperiment preflight_experiment(const ExperimentConfig& config, const PresetNotes& notes);

}  // namespace lorica
