#include "engine/config/experiment_config.h"
#include "engine/config/config_schema.h"
#include "engine/config/experiment_variants.h"
#include "engine/config/json_object_reader.h"
#include "engine/config/preset_notes.h"
#include "engine/config/launcher_settings.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace lorica {
namespace {

// ---- reading a field through its declaration (config_schema.h): range and choices come from there ----

int64_t declared_bound(double bound) {
    if (bound >= 9.2e18) return INT64_MAX;
    if (bound <= -9.2e18) return INT64_MIN;
    return static_cast<int64_t>(bound);
}

template <typename Int>
void read_declared_int(ObjectReader& r, const std::string& key, Int& out) {
    const ConfigFieldSpec& f = config_field(r.field(key));
    r.read_int(key, out, declared_bound(f.min), declared_bound(f.max));
}

void read_declared_number(ObjectReader& r, const std::string& key, double& out) {
    const ConfigFieldSpec& f = config_field(r.field(key));
    r.read(key, out, f.min, f.max);
}

void read_declared_numbers(ObjectReader& r, const std::string& key, std::vector<double>& out) {
    const ConfigFieldSpec& f = config_field(r.field(key));
    r.read(key, out, f.min, f.max);
}

// A closed set: the spelling is checked against the declared choices (the table's spellings), then
// turned into the enum.
template <class E, std::size_t N>
void read_declared_choice(ObjectReader& r, const std::string& key, E& out, const EnumNames<E, N>& names) {
    std::string spelling = name_of(names, out);
    r.read(key, spelling, config_field(r.field(key)).choices);
    const std::optional<E> value = value_of(names, spelling);
    if (!value) throw std::logic_error("config field '" + r.field(key) + "': declared choices and enum table differ");
    out = *value;
}

template <class E, std::size_t N>
std::vector<std::string> enum_spellings(const std::vector<E>& values, const EnumNames<E, N>& names) {
    std::vector<std::string> out;
    for (E v : values) out.push_back(name_of(names, v));
    return out;
}

// stream.datasets: [{name, dataset, root, file_list, epochs, train_per_class, test_per_class,
// subset_fraction, domain}, ...]
void read_dataset_tasks(const json& list, std::vector<DatasetTaskConfig>& out) {
    if (!list.is_array()) throw ConfigError("stream.datasets", "must be a list of data-set tasks, got " + list.dump());
    out.clear();
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string path = "stream.datasets[" + std::to_string(i) + "]";
        ObjectReader r(list[i], path);
        DatasetTaskConfig task;
        r.read("name", task.name);
        std::string dataset = name_of(kDatasetNames, task.dataset);
        std::vector<std::string> allowed;
        for (const auto& [id, spelling] : kDatasetNames) allowed.emplace_back(spelling);
        r.read("dataset", dataset, allowed);
        task.dataset = *value_of(kDatasetNames, dataset);
        r.read("root", task.root);
        r.read("file_list", task.file_list);
        r.read_int("epochs", task.epochs, 0, 100000);
        r.read_int("train_per_class", task.train_per_class, int64_t{0}, INT64_MAX);
        r.read_int("test_per_class", task.test_per_class, int64_t{0}, INT64_MAX);
        r.read("subset_fraction", task.subset_fraction, 0.0, 1.0);
        if (!(task.subset_fraction > 0.0))
            throw ConfigError(path + ".subset_fraction",
                              "must be in (0, 1], got " + std::to_string(task.subset_fraction));
        r.read("domain", task.domain);
        r.finish();
        out.push_back(std::move(task));  // an empty root is the preflight's to report (presets leave it to the user)
    }
}

void read_optimizer(ObjectReader& parent, const std::string& key, OptimizerConfig& out) {
    const json* v = parent.object(key);
    if (!v) return;
    ObjectReader r(*v, parent.field(key));
    read_declared_choice(r, "name", out.name, kOptimizerAlgorithmNames);
    read_declared_number(r, "lr", out.lr);
    read_declared_number(r, "head_lr", out.head_lr);
    read_declared_number(r, "weight_decay", out.weight_decay);
    read_declared_number(r, "beta1", out.beta1);
    read_declared_number(r, "beta2", out.beta2);
    read_declared_number(r, "momentum", out.momentum);
    r.finish();
}

void read_schedule(ObjectReader& parent, const std::string& key, ScheduleConfig& out) {
    const json* v = parent.object(key);
    if (!v) return;
    ObjectReader r(*v, parent.field(key));
    read_declared_choice(r, "name", out.name, kScheduleShapeNames);
    read_declared_number(r, "warmup_fraction", out.warmup_fraction);
    read_declared_number(r, "min_lr_fraction", out.min_lr_fraction);
    r.finish();
}

json optimizer_json(const OptimizerConfig& o) {
    return {{"name", name_of(kOptimizerAlgorithmNames, o.name)},
            {"lr", o.lr},
            {"head_lr", o.head_lr},
            {"weight_decay", o.weight_decay},
            {"beta1", o.beta1},
            {"beta2", o.beta2},
            {"momentum", o.momentum}};
}
json schedule_json(const ScheduleConfig& s) {
    return {{"name", name_of(kScheduleShapeNames, s.name)},
            {"warmup_fraction", s.warmup_fraction},
            {"min_lr_fraction", s.min_lr_fraction}};
}

bool is_utf8(const std::string& text) {
    try {
        (void)json(text).dump();
        return true;
    } catch (const json::type_error&) {
        return false;
    }
}

void validate_targets(const std::vector<std::string>& targets, const std::string& field) {
    // ViT and ResNet shorthands (engine/model/adapter_targets.h checks them against the backbone).
    static const std::set<std::string> shorthands = {"q",     "k",          "v",          "qkv",   "proj",
                                                     "fc1",   "fc2",        "all-linear", "conv1", "conv2",
                                                     "conv3", "downsample", "all-conv",   "stem"};
    if (targets.empty()) throw ConfigError(field, "must name at least one adapted layer");
    for (size_t i = 0; i < targets.size(); ++i) {
        const std::string& t = targets[i];
        if (shorthands.count(t)) continue;
        bool ok = !t.empty() && t.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.*:") == std::string::npos;
        if (!ok)
            throw ConfigError(field + "[" + std::to_string(i) + "]",
                              "'" + t + "' is neither a shorthand (ViT: q, k, v, qkv, proj, fc1, fc2, all-linear; " +
                                  "ResNet: conv1, conv2, conv3, downsample, all-conv, stem) nor a module pattern " +
                                  "such as blocks.*.attn.qkv or layer*.*.conv3");
    }
}

}  // namespace

BackboneConfig backbone_preset(const std::string& name) {
    BackboneConfig b;
    b.preset = name;
    if (name == "tiny") return b;
    if (name == "tiny-resnet" || name == "resnet18" || name == "resnet50") {
        b.family = BackboneFamily::resnet;
        if (name == "tiny-resnet") return b;  // 1 channel, 28 px like the tiny ViT
        b.image_size = 224;
        b.in_channels = 3;
        return b;
    }
    b.image_size = 224;
    b.patch_size = 16;
    b.in_channels = 3;
    b.mlp_ratio = 4.0;
    if (name == "vit_tiny_patch16_224") {
        b.dim = 192, b.depth = 12, b.heads = 3;
    } else if (name == "vit_small_patch16_224") {
        b.dim = 384, b.depth = 12, b.heads = 6;
    } else if (name == "vit_base_patch16_224") {
        b.dim = 768, b.depth = 12, b.heads = 12;
    } else {
        std::string allowed;
        for (std::string_view p : kBackbonePresets) allowed += (allowed.empty() ? "" : ", ") + std::string(p);
        throw ConfigError("backbone.preset", "'" + name + "' is not allowed (allowed: " + allowed + ")");
    }
    return b;
}

ExperimentConfig parse_experiment_config(const json& document) {
    ExperimentConfig c;
    ObjectReader root(document, "");
    root.read("name", c.name);
    // A preset's description and file requirements (preset_notes.h): checked, not part of the config.
    (void)root.find(kPresetDescriptionKey);
    (void)root.find(kPresetRequiresKey);
    (void)read_preset_notes(document);
    if (const json* seeds = root.find("seeds")) {
        if (!seeds->is_array() || seeds->empty())
            throw ConfigError("seeds", "must be a non-empty list of integers, got " + seeds->dump());
        c.seeds.clear();
        for (size_t i = 0; i < seeds->size(); ++i) {
            if (!(*seeds)[i].is_number_integer() || (*seeds)[i].get<int64_t>() < 0)
                throw ConfigError("seeds[" + std::to_string(i) + "]", "must be a non-negative integer");
            c.seeds.push_back((*seeds)[i].get<int64_t>());
        }
    }
    root.read("device", c.device);
    const bool cuda_index = c.device.rfind("cuda:", 0) == 0 && c.device.size() > 5 && c.device.size() <= 8 &&
                            c.device.find_first_not_of("0123456789", 5) == std::string::npos;
    if (c.device != "auto" && c.device != "cpu" && c.device != "cuda" && !cuda_index)
        throw ConfigError("device", "'" + c.device + "' is not allowed (allowed: auto, cpu, cuda, cuda:N)");
    read_declared_int(root, "threads", c.threads);
    root.read("cache_dir", c.cache_dir);

    if (const json* v = root.object("data")) {
        ObjectReader r(*v, "data");
        read_declared_choice(r, "dataset", c.data.dataset, kDatasetNames);
        r.read("root", c.data.root);
        read_declared_int(r, "train_per_class", c.data.train_per_class);
        read_declared_int(r, "test_per_class", c.data.test_per_class);
        read_declared_numbers(r, "normalize_mean", c.data.normalize_mean);
        read_declared_numbers(r, "normalize_std", c.data.normalize_std);
        if (const json* a = r.object("augment")) {
            ObjectReader ar(*a, "data.augment");
            ar.read("horizontal_flip", c.data.augment.horizontal_flip);
            read_declared_int(ar, "random_crop_padding", c.data.augment.random_crop_padding);
            ar.finish();
        }
        read_declared_choice(r, "cifar100_labels", c.data.cifar100_labels, kCifar100LabelNames);
        r.read("file_list", c.data.file_list);
        read_declared_int(r, "resize_size", c.data.resize_size);
        read_declared_int(r, "workers", c.data.workers);
        read_declared_int(r, "cache_mb", c.data.cache_mb);
        r.read("prepared", c.data.prepared);
        r.finish();
        if (!c.data.file_list.empty() && c.data.dataset != DatasetId::image_folder)
            throw ConfigError("data.file_list", "is only used with data.dataset = image-folder");
        if (c.data.normalize_mean.size() != c.data.normalize_std.size())
            throw ConfigError("data.normalize_std", "must have as many entries as data.normalize_mean");
    }

    if (const json* v = root.object("foundation")) {
        ObjectReader r(*v, "foundation");
        read_declared_choice(r, "source", c.foundation.source, kFoundationSourceNames);
        if (const json* d = r.object("data")) {
            ObjectReader dr(*d, "foundation.data");
            dr.read("root", c.foundation.data.root);
            dr.read("file_list", c.foundation.data.file_list);
            read_declared_int(dr, "test_per_class", c.foundation.data.test_per_class);
            dr.finish();
        }
        r.read("enabled", c.foundation.enabled);
        read_declared_int(r, "classes", c.foundation.classes);
        read_declared_int(r, "train_per_class", c.foundation.train_per_class);
        read_declared_int(r, "epochs", c.foundation.epochs);
        read_declared_int(r, "batch_size", c.foundation.batch_size);
        read_optimizer(r, "optimizer", c.foundation.optimizer);
        read_schedule(r, "schedule", c.foundation.schedule);
        r.finish();
    }

    if (const json* v = root.object("stream")) {
        ObjectReader r(*v, "stream");
        read_declared_choice(r, "type", c.stream.type, kStreamTypeNames);
        read_declared_int(r, "tasks", c.stream.tasks);
        read_declared_int(r, "classes_per_task", c.stream.classes_per_task);
        if (const json* s = r.find("class_order_seed")) {
            if (s->is_null())
                c.stream.class_order_seed.reset();
            else if (s->is_number_integer() && s->get<int64_t>() >= 0)
                c.stream.class_order_seed = s->get<int64_t>();
            else
                throw ConfigError("stream.class_order_seed",
                                  "must be a non-negative integer or null, got " + s->dump());
        }
        std::vector<std::string> domains = enum_spellings(c.stream.domains, kDomainTransformNames);
        r.read("domains", domains);
        const std::vector<std::string>& allowed_domains = config_field("stream.domains").choices;
        c.stream.domains.clear();
        for (size_t i = 0; i < domains.size(); ++i) {
            const std::optional<DomainTransform> d = value_of(kDomainTransformNames, domains[i]);
            if (!d || std::find(allowed_domains.begin(), allowed_domains.end(), domains[i]) == allowed_domains.end())
                throw ConfigError("stream.domains[" + std::to_string(i) + "]",
                                  "'" + domains[i] + "' is not allowed (allowed: " + join(allowed_domains) + ")");
            c.stream.domains.push_back(*d);
        }
        r.read("task_incremental", c.stream.task_incremental);
        if (const json* list = r.find("datasets")) read_dataset_tasks(*list, c.stream.datasets);
        r.finish();
    }

    if (const json* v = root.object("backbone")) {
        ObjectReader r(*v, "backbone");
        std::string preset = c.backbone.preset;
        r.read("preset", preset);
        c.backbone = backbone_preset(preset);  // sizes of the preset, then explicit fields win
        read_declared_int(r, "image_size", c.backbone.image_size);
        read_declared_int(r, "patch_size", c.backbone.patch_size);
        read_declared_int(r, "in_channels", c.backbone.in_channels);
        read_declared_int(r, "dim", c.backbone.dim);
        read_declared_int(r, "depth", c.backbone.depth);
        read_declared_int(r, "heads", c.backbone.heads);
        read_declared_number(r, "mlp_ratio", c.backbone.mlp_ratio);
        r.read("weights", c.backbone.weights);
        r.read("freeze_batchnorm", c.backbone.freeze_batchnorm);
        r.finish();
        if (c.backbone.image_size % c.backbone.patch_size != 0)
            throw ConfigError("backbone.patch_size",
                              "must divide backbone.image_size (" + std::to_string(c.backbone.image_size) + ")");
        if (c.backbone.dim % c.backbone.heads != 0)
            throw ConfigError("backbone.heads", "must divide backbone.dim (" + std::to_string(c.backbone.dim) + ")");
    }

    if (const json* v = root.object("method")) {
        ObjectReader r(*v, "method");
        r.read("name", c.method.name);
        read_declared_int(r, "rank", c.method.rank);
        read_declared_number(r, "alpha", c.method.alpha);
        r.read("targets", c.method.targets);
        if (const json* o = r.object("options")) c.method.options = *o;
        r.finish();
        validate_targets(c.method.targets, "method.targets");
    }

    if (const json* v = root.object("train")) {
        ObjectReader r(*v, "train");
        read_declared_int(r, "epochs", c.train.epochs);
        read_declared_int(r, "batch_size", c.train.batch_size);
        read_optimizer(r, "optimizer", c.train.optimizer);
        read_schedule(r, "schedule", c.train.schedule);
        read_declared_choice(r, "loss", c.train.loss, kLossScopeNames);
        read_declared_number(r, "grad_clip", c.train.grad_clip);
        read_declared_int(r, "max_steps_per_task", c.train.max_steps_per_task);
        read_declared_choice(r, "precision", c.train.precision, kPrecisionNames);
        read_declared_int(r, "loss_readback_steps", c.train.loss_readback_steps);
        read_declared_choice(r, "head_init", c.train.head_init, kHeadInitNames);
        r.finish();
    }

    if (const json* v = root.object("eval")) {
        ObjectReader r(*v, "eval");
        read_declared_int(r, "every_steps", c.eval.every_steps);
        read_declared_int(r, "batch_size", c.eval.batch_size);
        r.read("class_il", c.eval.class_il);
        r.read("task_il", c.eval.task_il);
        r.read("before_task", c.eval.before_task);
        r.read("random_init", c.eval.random_init);
        r.finish();
    }
    if (const json* v = root.object("analysis")) {
        ObjectReader r(*v, "analysis");
        r.read("low_loss_region", c.analysis.low_loss_region);
        read_declared_choice(r, "low_loss_update", c.analysis.low_loss_update, kLowLossUpdateNames);
        r.finish();
    }
    if (const json* v = root.find("variants")) c.variants = parse_variant_specs(*v);
    if (const json* v = root.find("sweep")) c.sweep = parse_sweep_spec(*v);
    // How a sweep's jobs are launched: validated here, not part of the effective config (launcher_settings.h).
    if (const json* v = root.find("launcher")) (void)parse_launcher_settings(*v);
    root.finish();

    // The data set's classes (dataset_catalog.h; 0 for an image folder: known once it is read).
    const int classes = dataset_num_classes(c.data.dataset, c.data.cifar100_labels);
    const std::string dataset = name_of(kDatasetNames, c.data.dataset);
    if (c.stream.type == StreamType::class_incremental && classes > 0 &&
        int64_t(c.stream.tasks) * c.stream.classes_per_task > classes)
        throw ConfigError("stream.tasks", "tasks × classes_per_task = " +
                                              std::to_string(int64_t(c.stream.tasks) * c.stream.classes_per_task) +
                                              " exceeds the " + std::to_string(classes) + " classes of " + dataset);
    if (c.foundation.source == FoundationSource::train && c.foundation.enabled && classes > 0 &&
        c.foundation.classes > classes)
        throw ConfigError("foundation.classes", dataset + " has " + std::to_string(classes) + " classes");
    if (c.stream.type == StreamType::datasets) {
        if (c.stream.datasets.empty())
            throw ConfigError("stream.datasets", "stream.type = datasets needs at least one data-set task");
        // The stream's length is its list's: a stream.tasks given beside it (the GUI's form always holds
        // one) is replaced, and the effective config says the derived value.
        c.stream.tasks = static_cast<int>(c.stream.datasets.size());
    } else if (!c.stream.datasets.empty()) {
        throw ConfigError("stream.datasets", "is only read with stream.type = datasets (the type is " +
                                                 name_of(kStreamTypeNames, c.stream.type) + ")");
    }
    // foundation.source = weights with an empty backbone.weights or foundation.data.root: the preflight
    // reports it (presets leave the paths to the user).
    if (c.data.dataset != DatasetId::fashion_mnist && c.data.resize_size != 0 &&
        c.data.resize_size < c.backbone.image_size)
        throw ConfigError("data.resize_size", std::to_string(c.data.resize_size) +
                                                  " is smaller than backbone.image_size (" +
                                                  std::to_string(c.backbone.image_size) +
                                                  "), the size images are cropped to (allowed: 0 or at least " +
                                                  std::to_string(c.backbone.image_size) + ")");
    if (!c.eval.class_il && !c.eval.task_il)
        throw ConfigError("eval.task_il", "at least one of eval.class_il and eval.task_il must be true");
    if (has_variants(c)) (void)expand_variants(c);  // validates every variant's effective config
    return c;
}

json to_json(const ExperimentConfig& c) {
    json j;
    j["name"] = c.name;
    j["seeds"] = c.seeds;
    j["device"] = c.device;
    j["threads"] = c.threads;
    j["cache_dir"] = c.cache_dir;
    j["data"] = {{"dataset", name_of(kDatasetNames, c.data.dataset)},
                 {"root", c.data.root},
                 {"train_per_class", c.data.train_per_class},
                 {"test_per_class", c.data.test_per_class},
                 {"normalize_mean", c.data.normalize_mean},
                 {"normalize_std", c.data.normalize_std},
                 {"augment",
                  {{"horizontal_flip", c.data.augment.horizontal_flip},
                   {"random_crop_padding", c.data.augment.random_crop_padding}}},
                 {"cifar100_labels", name_of(kCifar100LabelNames, c.data.cifar100_labels)},
                 {"file_list", c.data.file_list},
                 {"resize_size", c.data.resize_size}};
    // Speed/memory knobs only: left out at their defaults, so configs that do not set them (the
    // default experiment) keep their effective config and hash.
    const DataConfig defaults;
    if (c.data.workers != defaults.workers) j["data"]["workers"] = c.data.workers;
    if (c.data.cache_mb != defaults.cache_mb) j["data"]["cache_mb"] = c.data.cache_mb;
    // Prepared images differ from decoded ones by the resize step's rounding: part of the config when set.
    if (!c.data.prepared.empty()) j["data"]["prepared"] = c.data.prepared;
    j["foundation"] = {{"enabled", c.foundation.enabled},
                       {"classes", c.foundation.classes},
                       {"train_per_class", c.foundation.train_per_class},
                       {"epochs", c.foundation.epochs},
                       {"batch_size", c.foundation.batch_size},
                       {"optimizer", optimizer_json(c.foundation.optimizer)},
                       {"schedule", schedule_json(c.foundation.schedule)}};
    // Fields of the newer stream and foundation kinds: written only when used, so configs that do not
    // use them keep their effective config and hash.
    if (c.foundation.source != FoundationSource::train) {
        j["foundation"]["source"] = name_of(kFoundationSourceNames, c.foundation.source);
        j["foundation"]["data"] = {{"root", c.foundation.data.root},
                                   {"file_list", c.foundation.data.file_list},
                                   {"test_per_class", c.foundation.data.test_per_class}};
    }
    j["stream"] = {{"type", name_of(kStreamTypeNames, c.stream.type)},
                   {"tasks", c.stream.tasks},
                   {"classes_per_task", c.stream.classes_per_task},
                   {"class_order_seed", c.stream.class_order_seed ? json(*c.stream.class_order_seed) : json(nullptr)},
                   {"domains", enum_spellings(c.stream.domains, kDomainTransformNames)},
                   {"task_incremental", c.stream.task_incremental}};
    if (c.stream.type == StreamType::datasets) {
        json list = json::array();
        for (const DatasetTaskConfig& t : c.stream.datasets)
            list.push_back({{"name", t.name},
                            {"dataset", name_of(kDatasetNames, t.dataset)},
                            {"root", t.root},
                            {"file_list", t.file_list},
                            {"epochs", t.epochs},
                            {"train_per_class", t.train_per_class},
                            {"test_per_class", t.test_per_class},
                            {"subset_fraction", t.subset_fraction},
                            {"domain", t.domain}});
        j["stream"]["datasets"] = list;
    }
    j["backbone"] = {{"preset", c.backbone.preset},
                     {"image_size", c.backbone.image_size},
                     {"patch_size", c.backbone.patch_size},
                     {"in_channels", c.backbone.in_channels},
                     {"dim", c.backbone.dim},
                     {"depth", c.backbone.depth},
                     {"heads", c.backbone.heads},
                     {"mlp_ratio", c.backbone.mlp_ratio},
                     {"weights", c.backbone.weights}};
    if (c.backbone.family == BackboneFamily::resnet) j["backbone"]["freeze_batchnorm"] = c.backbone.freeze_batchnorm;
    j["method"] = {{"name", c.method.name},
                   {"rank", c.method.rank},
                   {"alpha", c.method.alpha},
                   {"targets", c.method.targets},
                   {"options", c.method.options}};
    j["train"] = {{"epochs", c.train.epochs},
                  {"batch_size", c.train.batch_size},
                  {"optimizer", optimizer_json(c.train.optimizer)},
                  {"schedule", schedule_json(c.train.schedule)},
                  {"loss", name_of(kLossScopeNames, c.train.loss)},
                  {"grad_clip", c.train.grad_clip},
                  {"max_steps_per_task", c.train.max_steps_per_task},
                  {"precision", name_of(kPrecisionNames, c.train.precision)},
                  {"loss_readback_steps", c.train.loss_readback_steps}};
    j["eval"] = {{"every_steps", c.eval.every_steps}, {"batch_size", c.eval.batch_size},
                 {"class_il", c.eval.class_il},       {"task_il", c.eval.task_il},
                 {"before_task", c.eval.before_task}, {"random_init", c.eval.random_init}};
    // Fields added after stored runs existed: written when they differ from the default, so older
    // configs keep their text and hash (full_config_json lists them all).
    if (c.train.head_init != HeadInit::normal) j["train"]["head_init"] = name_of(kHeadInitNames, c.train.head_init);
    if (c.analysis.low_loss_region)
        j["analysis"] = {{"low_loss_region", true},
                         {"low_loss_update", name_of(kLowLossUpdateNames, c.analysis.low_loss_update)}};
    if (!c.variants.empty()) j["variants"] = to_json(c.variants);
    if (!c.sweep.empty()) j["sweep"] = to_json(c.sweep);
    return j;
}

ExperimentConfig load_experiment_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw ConfigError("", "cannot open config file '" + path + "'");
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 1e400
        throw ConfigError("", "config file '" + path + "' is not valid JSON: " + e.what());
    }
    try {
        return parse_experiment_config(doc);
    } catch (const ConfigError& e) {
        throw ConfigError(e.field(), std::string(e.what()) + " (in " + path + ")");
    }
}

void apply_override(json& document, const std::string& assignment) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0)
        throw ConfigError("", "override '" + assignment + "' must look like key=value (e.g. train.epochs=1)");
    std::string key = assignment.substr(0, eq);
    std::string text = assignment.substr(eq + 1);
    // JSON strings are UTF-8: a byte that is not would make every later dump of the config throw
    // (found by bench/fuzz_config.cpp).
    if (!is_utf8(assignment))
        throw ConfigError(is_utf8(key) ? key : "",
                          "override " + json(assignment).dump(-1, ' ', false, json::error_handler_t::replace) +
                              " is not valid UTF-8");
    json value;
    try {
        value = json::parse(text);
    } catch (const json::exception&) {  // not JSON (or a number beyond double, such as 1e400): a string
        value = text;
    }
    json* node = &document;
    size_t start = 0;
    while (true) {
        size_t dot = key.find('.', start);
        std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        if (part.empty()) throw ConfigError(key, "empty component in override key");
        if (!node->is_object()) throw ConfigError(key, "cannot set a field inside a non-object value");
        if (dot == std::string::npos) {
            (*node)[part] = value;
            return;
        }
        node = &(*node)[part];
        if (node->is_null()) *node = json::object();
        start = dot + 1;
    }
}

std::string config_hash(const json& document) {
    const std::string text = document.dump();
    uint64_t h = 1469598103934665603ull;
    for (unsigned char ch : text) {
        h ^= ch;
        h *= 1099511628211ull;
    }
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
    return buf;
}

}  // namespace lorica
