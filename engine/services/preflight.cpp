#include "engine/services/preflight.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include <torch/torch.h>

#include "engine/config/experiment_variants.h"
#include "engine/config/preset_notes.h"
#include "engine/data/foundation_data.h"
#include "engine/data/raw_dataset.h"
#include "engine/io/timm_weights.h"
#include "engine/model/adapter_targets.h"
#include "engine/model/backbone_factory.h"
#include "engine/model/vit.h"
#include "engine/stream/stream_spec.h"
#include "engine/runtime/device.h"
#include "engine/services/preloaded_data.h"
#include "engine/train/foundation.h"
#include "engine/runtime/host_read.h"

namespace lorica {
namespace fs = std::filesystem;

nlohmann::json dataset_key(const ExperimentConfig& config) { return raw_dataset_key(config); }

namespace {

// ---- 3. data ------------------------------------------------------------------------------------

std::vector<int64_t> per_class_counts(const torch::Tensor& labels, int num_classes) {
    std::vector<int64_t> counts(std::max(num_classes, 0), 0);
    if (!labels.defined() || labels.numel() == 0) return counts;
    torch::Tensor c =
        torch::bincount(labels.to(torch::kInt64).flatten(), {}, num_classes).to(torch::kInt64).contiguous();
    for (int64_t i = 0; i < std::min<int64_t>(c.size(0), num_classes); ++i) counts[i] = read_int(c[i]);
    return counts;
}

std::string class_label(const RawDataset& raw, int cls) {
    std::string out = "class " + std::to_string(cls);
    if (cls >= 0 && cls < static_cast<int>(raw.class_names.size())) out += " ('" + raw.class_names[cls] + "')";
    return out;
}

// What one per-class count field asks of the classes it applies to, and the class that fits worst.
struct CountDemand {
    std::string split;            // "training" / "test"
    int64_t take = 0;             // images asked per class (0 = all the class has)
    int64_t allowed = INT64_MAX;  // the most every class involved can give (after the skipped ones)
    bool short_of = false;
    int worst_class = -1;
    int64_t worst_available = 0, worst_skip = 0;

    void need(const std::vector<int64_t>& counts, int cls, int64_t skip) {
        const int64_t available = cls < static_cast<int>(counts.size()) ? counts[cls] : 0;
        allowed = std::min(allowed, available - skip);
        const bool fits = skip < available && skip + take <= available;
        if (!fits && (!short_of || available - skip < worst_available - worst_skip)) {
            short_of = true;
            worst_class = cls;
            worst_available = available;
            worst_skip = skip;
        }
    }
};

void report_counts(const std::string& field, const CountDemand& d, const RawDataset& raw, const std::string& prefix,
                   ConfigProblems& problems) {
    if (!d.short_of) return;
    std::string message = prefix + (d.take == 0 ? std::string("all") : std::to_string(d.take)) + " " + d.split +
                          " images per class asked, but " + class_label(raw, d.worst_class) + " of " + raw.name +
                          " has " + std::to_string(d.worst_available) + " " + d.split + " images";
    if (d.worst_skip > 0)
        message += ", " + std::to_string(d.worst_skip) + " of them taken by foundation.train_per_class first";
    message += d.allowed > 0 ? " (allowed here: at most " + std::to_string(d.allowed) + ")"
                             : " (no images of that class are left: lower foundation.train_per_class)";
    problems.add(field, message);
}

void check_class_counts(const ExperimentConfig& c, const RawDataset& raw, const std::string& prefix,
                        ConfigProblems& problems) {
    const int64_t channels = raw.channels;
    if (!c.data.normalize_mean.empty() && static_cast<int64_t>(c.data.normalize_mean.size()) != channels)
        problems.add("data.normalize_mean", prefix + "has " + std::to_string(c.data.normalize_mean.size()) +
                                                " entries, but the images of " + raw.name + " have " +
                                                std::to_string(channels) +
                                                " channels (allowed: one entry per channel, or [])");
    const std::vector<int64_t> train = per_class_counts(raw.train_labels, raw.num_classes);
    const std::vector<int64_t> test = per_class_counts(raw.test_labels, raw.num_classes);
    CountDemand foundation{"training", c.foundation.train_per_class}, stream{"training", c.data.train_per_class},
        testing{"test", c.data.test_per_class};
    std::vector<int64_t> seeds = c.seeds;
    if (c.stream.class_order_seed) seeds = {0};  // one class order for every seed
    for (int64_t seed : seeds) {
        StreamSpec spec;
        try {
            spec = make_stream_spec(c, seed, raw.num_classes);
        } catch (const ConfigError& e) {
            problems.add(e.field(), prefix + without_field_prefix(e) + " (" + raw.name + ")");
            return;
        }
        const auto& found = spec.foundation_classes;
        for (int cls : found) {
            foundation.need(train, cls, 0);
            testing.need(test, cls, 0);
        }
        for (const TaskSpec& task : spec.tasks)
            for (int cls : task.classes) {
                const bool in_foundation = std::find(found.begin(), found.end(), cls) != found.end();
                stream.need(train, cls, in_foundation ? c.foundation.train_per_class : 0);
                testing.need(test, cls, 0);
            }
    }
    report_counts("foundation.train_per_class", foundation, raw, prefix, problems);
    report_counts("data.train_per_class", stream, raw, prefix, problems);
    report_counts("data.test_per_class", testing, raw, prefix, problems);
}

std::string data_subject(const DataConfig& data) {
    if (!data.file_list.empty()) return "data.file_list";
    return data.root.empty() ? "data.dataset" : "data.root";
}

// What load_raw_dataset loads, part by part (data.*, every stream.datasets entry, foundation.data and
// the weights' head), so that each part's problem is reported; nullopt when any part failed.
std::optional<RawDataset> load_run_data(const ExperimentConfig& c, const std::string& prefix,
                                        ConfigProblems& problems) {
    bool ok = true;
    auto attempt = [&](const std::string& subject, const auto& load) {
        try {
            load();
        } catch (const ConfigError& e) {
            problems.add(e.field().empty() ? subject : e.field(), prefix + without_field_prefix(e));
            ok = false;
        } catch (const std::exception& e) {
            problems.add(subject, prefix + e.what());
            ok = false;
        }
    };
    RawDataset raw;
    const bool datasets = c.stream.type == StreamType::datasets;
    if (!datasets || trains_foundation(c)) attempt(data_subject(c.data), [&] { raw = load_configured_dataset(c); });
    if (datasets) {
        raw.name = raw.name.empty() ? "datasets" : raw.name;
        for (size_t i = 0; i < c.stream.datasets.size(); ++i) {
            const std::string field = "stream.datasets[" + std::to_string(i) + "]";
            attempt(field + ".root", [&] {
                RawDataset task = load_stream_task_dataset(c, i);
                if (task.train_labels.numel() == 0)
                    throw ConfigError(field + ".root", c.stream.datasets[i].root + ": no training images");
                raw.stream_tasks.push_back(std::move(task));
            });
        }
    }
    if (c.foundation.source == FoundationSource::weights) {
        attempt("foundation.data.root", [&] {
            raw.foundation =
                std::make_shared<const RawDataset>(load_foundation_data(c.foundation.data, c.backbone.in_channels));
        });
        std::error_code ec;
        int64_t head = 0;  // a missing weights file is reported by check 4
        if (c.backbone.weights.empty()) {
            problems.add("backbone.weights", prefix +
                                                 "is required with foundation.source = weights (the foundation task "
                                                 "is the weights' own head)");
            ok = false;
        } else if (fs::is_regular_file(c.backbone.weights, ec))
            attempt("backbone.weights", [&] { head = weights_head_classes(c.backbone); });
        if (raw.foundation && head > 0 && raw.foundation->test_labels.numel() > 0) {
            const int64_t top = read_int(raw.foundation->test_labels.max());
            if (top >= head) {
                const auto& names = raw.foundation->class_names;
                problems.add("foundation.data.root",
                             prefix + c.foundation.data.root + " has images of class " + std::to_string(top) +
                                 (top < static_cast<int64_t>(names.size()) ? " ('" + names[top] + "')" : "") +
                                 ", but the head of " + c.backbone.weights + " has " + std::to_string(head) +
                                 " outputs (the foundation data's classes must match the head)");
                ok = false;
            }
        }
    }
    if (!ok) return std::nullopt;
    return raw;
}

// ---- 4., 5. backbone weights and adapter targets -------------------------------------------------

void check_model(const ExperimentConfig& c, const std::string& prefix, bool weights, bool targets,
                 ConfigProblems& problems) {
    torch::NoGradGuard no_grad;
    const int64_t head_classes = c.foundation.enabled ? c.foundation.classes : 0;
    Backbone model = make_backbone(c.backbone, head_classes);
    if (weights && !c.backbone.weights.empty()) {
        std::error_code ec;
        if (!fs::exists(c.backbone.weights, ec))
            problems.add("backbone.weights", prefix + "'" + c.backbone.weights +
                                                 "': no such file (allowed: a timm-layout "
                                                 "safetensors file, or \"\" for no weights)");
        else if (fs::is_directory(c.backbone.weights, ec))
            problems.add("backbone.weights",
                         prefix + "'" + c.backbone.weights + "' is a directory, not a safetensors file");
        else
            try {
                (void)load_timm_weights(model, c.backbone.weights);
            } catch (const std::exception& e) {
                problems.add("backbone.weights", prefix + e.what());
            }
    }
    if (!targets) return;
    std::vector<AdapterSite> sites;
    try {
        sites = resolve_adapter_sites(model, c.method.targets);
    } catch (const std::exception& e) {
        problems.add("method.targets", prefix + e.what());
        return;
    }
    try {
        check_adapter_rank(sites, c.method.rank);  // a conv's LoRA rank ≤ its channels
    } catch (const std::exception& e) {
        problems.add("method.rank", prefix + e.what());
    }
}

// ---- 6. what a preset requires (preset_notes.h) ---------------------------------------------------

void check_requirements(const PresetNotes& notes, const ExperimentConfig& c, ConfigProblems& problems) {
    for (const PresetRequirement& r : notes.requirements) {
        const bool reported =
            problems.append_where([&](const std::string& subject) { return requirement_covers(r.field, subject); },
                                  " (expected there: " + r.expected + ")");
        if (!reported && required_field_value(c, r.field).value_or("").empty())
            problems.add(r.field, "not set; this preset needs " + r.expected + " (set it: --set " + r.field + "=PATH)");
    }
}

CheckedExperiment check_experiment(ConfigCheck check, const PresetNotes& notes) {
    ConfigProblems& problems = check.problems;
    if (!check.config) throw PreflightError(problems.take());
    CheckedExperiment out;
    out.config = *check.config;
    const std::vector<ExperimentVariant> variants = expand_variants(out.config);
    const bool labelled = has_variants(out.config);

    // 2. device
    if (!problems.touches({"device"})) {
        std::set<std::string> devices;
        for (const auto& v : variants) devices.insert(v.config.device);
        for (const auto& d : devices) try {
                (void)resolve_device(d);
            } catch (const std::exception& e) {
                problems.add("device", "'" + d + "': " + e.what() + " (allowed here: auto, cpu)");
            }
    }

    // 3. data
    const bool data_ok = !problems.touches({"data", "backbone"});
    const bool counts_ok = data_ok && !problems.touches({"stream", "foundation", "seeds"});
    if (data_ok) {
        nlohmann::json loaded_key;  // key of `raw` (null = none loaded)
        RawDataset raw;
        bool loaded = false;
        for (const auto& v : variants) {
            const std::string prefix = labelled ? "variant '" + v.label + "': " : "";
            const nlohmann::json key = dataset_key(v.config);
            if (key != loaded_key) {
                loaded_key = key;
                loaded = false;
                if (std::optional<RawDataset> run_data = load_run_data(v.config, prefix, problems)) {
                    raw = std::move(*run_data);
                    loaded = true;
                }
                if (loaded && !out.data) out.data = std::make_shared<const PreloadedData>(PreloadedData{key, raw});
            }
            // Data-set streams take what each data set has (their per-class counts are caps).
            if (loaded && counts_ok && v.config.stream.type != StreamType::datasets)
                check_class_counts(v.config, raw, prefix, problems);
        }
    }

    // 4., 5. weights and targets, once per distinct backbone / weights / targets
    const bool weights_ok = !problems.touches({"backbone"});
    const bool targets_ok = weights_ok && !problems.touches({"method"});
    std::set<std::string> checked;
    for (const auto& v : variants) {
        const nlohmann::json j = to_json(v.config);
        const std::string key = nlohmann::json{j["backbone"], j["method"]["targets"], v.config.foundation.enabled,
                                               v.config.foundation.classes}
                                    .dump();
        if (!checked.insert(key).second) continue;
        // A backbone too large to build here is left to the run (it fails there, naming the step).
        const double parameters = v.config.backbone.depth * (4.0 + 2.0 * v.config.backbone.mlp_ratio) *
                                  double(v.config.backbone.dim) * v.config.backbone.dim;
        if (weights_ok && parameters < 2e9)
            check_model(v.config, labelled ? "variant '" + v.label + "': " : "", weights_ok, targets_ok, problems);
    }

    check_requirements(notes, out.config, problems);
    if (!problems.empty()) throw PreflightError(problems.take());
    return out;
}

PresetNotes notes_of(const nlohmann::json& document) {
    try {
        return read_preset_notes(document);
    } catch (const ConfigError&) {
        return {};  // malformed notes are a config problem, reported by check_config
    }
}

}  // namespace

CheckedExperiment preflight_experiment(const nlohmann::json& document) {
    return check_experiment(check_config(document), notes_of(document));
}

CheckedExperiment preflight_experiment(const ExperimentConfig& config) { return preflight_experiment(to_json(config)); }

CheckedExperiment preflight_experiment(const ExperimentConfig& config, const PresetNotes& notes) {
    return check_experiment(check_config(to_json(config)), notes);
}

}  // namespace lorica
