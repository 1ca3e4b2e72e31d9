#include "engine/config/experiment_config.h"
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

const std::vector<std::string> kOptimizers = {"adamw", "adam", "sgd"};
const std::vector<std::string> kSchedules = {"constant", "cosine"};

// The spellings of an enumeration's table, as ObjectReader::read's choices.
template <class E, std::size_t N>
std::vector<std::string> spellings(const EnumNames<E, N>& names) {
    std::vector<std::string> out;
    for (const auto& [value, name] : names) out.emplace_back(name);
    return out;
}

const std::vector<std::string> kDomains = {"identity", "rot90", "rot180", "rot270",
                                           "invert",   "hflip", "vflip",  "patch_permute"};

void read_optimizer(ObjectReader& parent, const std::string& key, OptimizerConfig& out) {
    const json* v = parent.object(key);
    if (!v) return;
    ObjectReader r(*v, parent.field(key));
    r.read("name", out.name, kOptimizers);
    r.read("lr", out.lr, 0.0, 10.0);
    r.read("head_lr", out.head_lr, 0.0, 10.0);
    r.read("weight_decay", out.weight_decay, 0.0, 10.0);
    r.read("beta1", out.beta1, 0.0, 0.999999);
    r.read("beta2", out.beta2, 0.0, 0.999999999);
    r.read("momentum", out.momentum, 0.0, 0.999999);
    r.finish();
}

void read_schedule(ObjectReader& parent, const std::string& key, ScheduleConfig& out) {
    const json* v = parent.object(key);
    if (!v) return;
    ObjectReader r(*v, parent.field(key));
    r.read("name", out.name, kSchedules);
    r.read("warmup_fraction", out.warmup_fraction, 0.0, 1.0);
    r.read("min_lr_fraction", out.min_lr_fraction, 0.0, 1.0);
    r.finish();
}

json optimizer_json(const OptimizerConfig& o) {
    return {{"name", o.name},   {"lr", o.lr},       {"head_lr", o.head_lr},  {"weight_decay", o.weight_decay},
            {"beta1", o.beta1}, {"beta2", o.beta2}, {"momentum", o.momentum}};
}
json schedule_json(const ScheduleConfig& s) {
    return {{"name", s.name}, {"warmup_fraction", s.warmup_fraction}, {"min_lr_fraction", s.min_lr_fraction}};
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
    static const std::set<std::string> shorthands = {"q", "k", "v", "qkv", "proj", "fc1", "fc2", "all-linear"};
    if (targets.empty()) throw ConfigError(field, "must name at least one adapted layer");
    for (size_t i = 0; i < targets.size(); ++i) {
        const std::string& t = targets[i];
        if (shorthands.count(t)) continue;
        bool ok = !t.empty() && t.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_.*:") == std::string::npos;
        if (!ok)
            throw ConfigError(field + "[" + std::to_string(i) + "]",
                              "'" + t + "' is neither a shorthand (q, k, v, qkv, proj, fc1, fc2, all-linear) nor a " +
                                  "module pattern such as blocks.*.attn.qkv");
    }
}

}  // namespace

BackboneConfig backbone_preset(const std::string& name) {
    BackboneConfig b;
    b.preset = name;
    if (name == "tiny") return b;
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
        throw ConfigError("backbone.preset", "'" + name +
                                                 "' is not allowed (allowed: tiny, vit_tiny_patch16_224, "
                                                 "vit_small_patch16_224, vit_base_patch16_224)");
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
    root.read_int("threads", c.threads, 0, 1024);
    root.read("cache_dir", c.cache_dir);

    if (const json* v = root.object("data")) {
        ObjectReader r(*v, "data");
        r.read("dataset", c.data.dataset, {"fashion-mnist", "cifar10", "cifar100", "image-folder"});
        r.read("root", c.data.root);
        r.read_int("train_per_class", c.data.train_per_class, 0);
        r.read_int("test_per_class", c.data.test_per_class, 0);
        r.read("normalize_mean", c.data.normalize_mean, -10.0, 10.0);
        r.read("normalize_std", c.data.normalize_std, 1e-6, 10.0);
        if (const json* a = r.object("augment")) {
            ObjectReader ar(*a, "data.augment");
            ar.read("horizontal_flip", c.data.augment.horizontal_flip);
            ar.read_int("random_crop_padding", c.data.augment.random_crop_padding, 0, 64);
            ar.finish();
        }
        r.read("cifar100_labels", c.data.cifar100_labels, {"fine", "coarse"});
        r.read("file_list", c.data.file_list);
        r.read_int("resize_size", c.data.resize_size, 0, 8192);
        r.read_int("workers", c.data.workers, 0, 256);
        r.read_int("cache_mb", c.data.cache_mb, 0, int64_t(1) << 20);
        r.finish();
        if (!c.data.file_list.empty() && c.data.dataset != "image-folder")
            throw ConfigError("data.file_list", "is only used with data.dataset = image-folder");
        if (c.data.normalize_mean.size() != c.data.normalize_std.size())
            throw ConfigError("data.normalize_std", "must have as many entries as data.normalize_mean");
    }

    if (const json* v = root.object("foundation")) {
        ObjectReader r(*v, "foundation");
        r.read("enabled", c.foundation.enabled);
        r.read_int("classes", c.foundation.classes, 1);
        r.read_int("train_per_class", c.foundation.train_per_class, 0);
        r.read_int("epochs", c.foundation.epochs, 0, 10000);
        r.read_int("batch_size", c.foundation.batch_size, 1, 1 << 20);
        read_optimizer(r, "optimizer", c.foundation.optimizer);
        read_schedule(r, "schedule", c.foundation.schedule);
        r.finish();
    }

    if (const json* v = root.object("stream")) {
        ObjectReader r(*v, "stream");
        std::string type = name_of(kStreamTypeNames, c.stream.type);
        r.read("type", type, spellings(kStreamTypeNames));
        c.stream.type = *value_of(kStreamTypeNames, type);
        r.read_int("tasks", c.stream.tasks, 1, 1000);
        r.read_int("classes_per_task", c.stream.classes_per_task, 1, 100000);
        if (const json* s = r.find("class_order_seed")) {
            if (s->is_null())
                c.stream.class_order_seed.reset();
            else if (s->is_number_integer() && s->get<int64_t>() >= 0)
                c.stream.class_order_seed = s->get<int64_t>();
            else
                throw ConfigError("stream.class_order_seed",
                                  "must be a non-negative integer or null, got " + s->dump());
        }
        r.read("domains", c.stream.domains);
        for (size_t i = 0; i < c.stream.domains.size(); ++i)
            if (std::find(kDomains.begin(), kDomains.end(), c.stream.domains[i]) == kDomains.end())
                throw ConfigError("stream.domains[" + std::to_string(i) + "]",
                                  "'" + c.stream.domains[i] + "' is not allowed (allowed: " + join(kDomains) + ")");
        r.read("task_incremental", c.stream.task_incremental);
        r.finish();
    }

    if (const json* v = root.object("backbone")) {
        ObjectReader r(*v, "backbone");
        std::string preset = c.backbone.preset;
        r.read("preset", preset);
        c.backbone = backbone_preset(preset);  // sizes of the preset, then explicit fields win
        r.read_int("image_size", c.backbone.image_size, 1, 4096);
        r.read_int("patch_size", c.backbone.patch_size, 1, 1024);
        r.read_int("in_channels", c.backbone.in_channels, 1, 16);
        r.read_int("dim", c.backbone.dim, 1, 65536);
        r.read_int("depth", c.backbone.depth, 1, 256);
        r.read_int("heads", c.backbone.heads, 1, 1024);
        r.read("mlp_ratio", c.backbone.mlp_ratio, 0.0625, 64.0);
        r.read("weights", c.backbone.weights);
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
        r.read_int("rank", c.method.rank, 1, 4096);
        r.read("alpha", c.method.alpha, 0.0, 1e6);
        r.read("targets", c.method.targets);
        if (const json* o = r.object("options")) c.method.options = *o;
        r.finish();
        validate_targets(c.method.targets, "method.targets");
    }

    if (const json* v = root.object("train")) {
        ObjectReader r(*v, "train");
        r.read_int("epochs", c.train.epochs, 0, 100000);
        r.read_int("batch_size", c.train.batch_size, 1, 1 << 20);
        read_optimizer(r, "optimizer", c.train.optimizer);
        read_schedule(r, "schedule", c.train.schedule);
        r.read("loss", c.train.loss, {"current-task", "all-seen"});
        r.read("grad_clip", c.train.grad_clip, 0.0, 1e9);
        r.read_int("max_steps_per_task", c.train.max_steps_per_task, 0);
        std::string precision = name_of(kPrecisionNames, c.train.precision);
        r.read("precision", precision, spellings(kPrecisionNames));
        c.train.precision = *value_of(kPrecisionNames, precision);
        r.read_int("loss_readback_steps", c.train.loss_readback_steps, 0, 1 << 20);
        r.finish();
    }

    if (const json* v = root.object("eval")) {
        ObjectReader r(*v, "eval");
        r.read_int("every_steps", c.eval.every_steps, 0);
        r.read_int("batch_size", c.eval.batch_size, 1, 1 << 20);
        r.read("class_il", c.eval.class_il);
        r.read("task_il", c.eval.task_il);
        r.read("before_task", c.eval.before_task);
        r.read("random_init", c.eval.random_init);
        r.finish();
    }
    if (const json* v = root.find("variants")) c.variants = parse_variant_specs(*v);
    if (const json* v = root.find("sweep")) c.sweep = parse_sweep_spec(*v);
    // How a sweep's jobs are launched: validated here, not part of the effective config (launcher_settings.h).
    if (const json* v = root.find("launcher")) (void)parse_launcher_settings(*v);
    root.finish();

    if (c.stream.type == StreamType::class_incremental && c.data.dataset == "fashion-mnist" &&
        int64_t(c.stream.tasks) * c.stream.classes_per_task > 10)
        throw ConfigError("stream.tasks", "tasks × classes_per_task = " +
                                              std::to_string(int64_t(c.stream.tasks) * c.stream.classes_per_task) +
                                              " exceeds the 10 classes of fashion-mnist");
    if (c.foundation.enabled && c.data.dataset == "fashion-mnist" && c.foundation.classes > 10)
        throw ConfigError("foundation.classes", "fashion-mnist has 10 classes");
    if (c.data.dataset != "fashion-mnist" && c.data.resize_size != 0 && c.data.resize_size < c.backbone.image_size)
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
    j["data"] = {{"dataset", c.data.dataset},
                 {"root", c.data.root},
                 {"train_per_class", c.data.train_per_class},
                 {"test_per_class", c.data.test_per_class},
                 {"normalize_mean", c.data.normalize_mean},
                 {"normalize_std", c.data.normalize_std},
                 {"augment",
                  {{"horizontal_flip", c.data.augment.horizontal_flip},
                   {"random_crop_padding", c.data.augment.random_crop_padding}}},
                 {"cifar100_labels", c.data.cifar100_labels},
                 {"file_list", c.data.file_list},
                 {"resize_size", c.data.resize_size}};
    // Speed/memory knobs only: left out at their defaults, so configs that do not set them (the
    // default experiment) keep their effective config and hash.
    const DataConfig defaults;
    if (c.data.workers != defaults.workers) j["data"]["workers"] = c.data.workers;
    if (c.data.cache_mb != defaults.cache_mb) j["data"]["cache_mb"] = c.data.cache_mb;
    j["foundation"] = {{"enabled", c.foundation.enabled},
                       {"classes", c.foundation.classes},
                       {"train_per_class", c.foundation.train_per_class},
                       {"epochs", c.foundation.epochs},
                       {"batch_size", c.foundation.batch_size},
                       {"optimizer", optimizer_json(c.foundation.optimizer)},
                       {"schedule", schedule_json(c.foundation.schedule)}};
    j["stream"] = {{"type", name_of(kStreamTypeNames, c.stream.type)},
                   {"tasks", c.stream.tasks},
                   {"classes_per_task", c.stream.classes_per_task},
                   {"class_order_seed", c.stream.class_order_seed ? json(*c.stream.class_order_seed) : json(nullptr)},
                   {"domains", c.stream.domains},
                   {"task_incremental", c.stream.task_incremental}};
    j["backbone"] = {{"preset", c.backbone.preset},
                     {"image_size", c.backbone.image_size},
                     {"patch_size", c.backbone.patch_size},
                     {"in_channels", c.backbone.in_channels},
                     {"dim", c.backbone.dim},
                     {"depth", c.backbone.depth},
                     {"heads", c.backbone.heads},
                     {"mlp_ratio", c.backbone.mlp_ratio},
                     {"weights", c.backbone.weights}};
    j["method"] = {{"name", c.method.name},
                   {"rank", c.method.rank},
                   {"alpha", c.method.alpha},
                   {"targets", c.method.targets},
                   {"options", c.method.options}};
    j["train"] = {{"epochs", c.train.epochs},
                  {"batch_size", c.train.batch_size},
                  {"optimizer", optimizer_json(c.train.optimizer)},
                  {"schedule", schedule_json(c.train.schedule)},
                  {"loss", c.train.loss},
                  {"grad_clip", c.train.grad_clip},
                  {"max_steps_per_task", c.train.max_steps_per_task},
                  {"precision", name_of(kPrecisionNames, c.train.precision)},
                  {"loss_readback_steps", c.train.loss_readback_steps}};
    j["eval"] = {{"every_steps", c.eval.every_steps}, {"batch_size", c.eval.batch_size},
                 {"class_il", c.eval.class_il},       {"task_il", c.eval.task_il},
                 {"before_task", c.eval.before_task}, {"random_init", c.eval.random_init}};
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
