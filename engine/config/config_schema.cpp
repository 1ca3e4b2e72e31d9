#include "engine/config/config_schema.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

#include "engine/methods/catalog/method_catalog.h"

namespace lorica {
namespace {

using Type = ConfigFieldType;

ConfigFieldSpec boolean_field(std::string path, std::string label, std::string doc) {
    ConfigFieldSpec f;
    f.path = std::move(path);
    f.type = Type::boolean;
    f.label = std::move(label);
    f.doc = std::move(doc);
    return f;
}

ConfigFieldSpec ranged_field(Type type, std::string path, double min, double max, std::string unit, std::string label,
                             std::string doc) {
    ConfigFieldSpec f;
    f.path = std::move(path);
    f.type = type;
    f.min = min;
    f.max = max;
    f.unit = std::move(unit);
    f.label = std::move(label);
    f.doc = std::move(doc);
    return f;
}

ConfigFieldSpec integer_field(std::string path, double min, double max, std::string unit, std::string label,
                              std::string doc) {
    return ranged_field(Type::integer, std::move(path), min, max, std::move(unit), std::move(label), std::move(doc));
}

ConfigFieldSpec number_field(std::string path, double min, double max, std::string unit, std::string label,
                             std::string doc) {
    return ranged_field(Type::number, std::move(path), min, max, std::move(unit), std::move(label), std::move(doc));
}

ConfigFieldSpec text_field(std::string path, std::string label, std::string doc,
                           std::vector<std::string> suggestions = {}) {
    ConfigFieldSpec f;
    f.path = std::move(path);
    f.type = Type::text;
    f.label = std::move(label);
    f.doc = std::move(doc);
    f.choices = std::move(suggestions);
    return f;
}

template <class E, std::size_t N>
std::vector<std::string> spellings_of(const EnumNames<E, N>& names) {
    std::vector<std::string> out;
    for (const auto& [value, name] : names) out.emplace_back(name);
    return out;
}

template <class E, std::size_t N>
ConfigFieldSpec choice_field(std::string path, const EnumNames<E, N>& names, std::string label, std::string doc) {
    ConfigFieldSpec f;
    f.path = std::move(path);
    f.type = Type::choice;
    f.choices = spellings_of(names);
    f.label = std::move(label);
    f.doc = std::move(doc);
    return f;
}

// The fields of an optimizer{} and a schedule{} object under `prefix` ("train", "foundation").
void add_optimizer_fields(std::vector<ConfigFieldSpec>& out, const std::string& prefix, const std::string& label) {
    const std::string o = prefix + ".optimizer.";
    out.push_back(
        choice_field(o + "name", kOptimizerAlgorithmNames, label + "optimizer", "adamw, adam or sgd (with momentum)"));
    out.push_back(number_field(o + "lr", 0.0, 10.0, "", label + "learning rate",
                               "Peak learning rate of the adapter / backbone parameters"));
    out.push_back(number_field(o + "head_lr", 0.0, 10.0, "", label + "head learning rate",
                               "Learning rate of the classifier heads (0 = same as the learning rate)"));
    out.push_back(number_field(o + "weight_decay", 0.0, 10.0, "", label + "weight decay", "Weight decay"));
    out.push_back(number_field(o + "beta1", 0.0, 0.999999, "", label + "β₁", "Adam(W) first-moment decay"));
    out.push_back(number_field(o + "beta2", 0.0, 0.999999999, "", label + "β₂", "Adam(W) second-moment decay"));
    out.push_back(number_field(o + "momentum", 0.0, 0.999999, "", label + "momentum", "SGD momentum"));
    const std::string s = prefix + ".schedule.";
    out.push_back(choice_field(s + "name", kScheduleShapeNames, label + "schedule",
                               "Learning rate after warm-up, per task: constant, or cosine down to the floor"));
    out.push_back(number_field(s + "warmup_fraction", 0.0, 1.0, "", label + "warm-up fraction",
                               "Fraction of the task's steps spent warming up linearly from 0"));
    out.push_back(number_field(s + "min_lr_fraction", 0.0, 1.0, "", label + "cosine floor",
                               "Lowest learning rate of the cosine schedule, as a fraction of the peak"));
}

std::vector<ConfigFieldSpec> declare_config_fields() {
    std::vector<ConfigFieldSpec> f;
    f.push_back(text_field("name", "Experiment name", "Shown in the run browser"));
    {
        ConfigFieldSpec seeds = ranged_field(Type::integer_list, "seeds", 0.0, kNoMaximum, "", "Seeds",
                                             "One run per seed, e.g. [0, 1, 2]; several seeds show mean ± std");
        f.push_back(seeds);
    }
    f.push_back(text_field("device", "Device", "auto (a GPU when present), cpu, cuda or cuda:N",
                           {"auto", "cpu", "cuda", "cuda:0", "cuda:1"}));
    f.push_back(integer_field("threads", 0, 1024, "threads", "Threads", "LibTorch intra-op threads; 0 = all cores"));
    f.push_back(
        text_field("cache_dir", "Cache folder",
                   "Where foundation checkpoints are cached; empty = $XDG_CACHE_HOME/lorica or ~/.cache/lorica"));

    f.push_back(choice_field("data.dataset", kDatasetNames, "Data set",
                             "fashion-mnist (embedded), cifar10, cifar100 or an image folder"));
    f.push_back(
        text_field("data.root", "Data folder", "Folder of the data set; empty = the data set's default location"));
    f.push_back(integer_field("data.train_per_class", 0, kNoMaximum, "images", "Training images per class",
                              "Stream training images per class (0 = all available)"));
    f.push_back(integer_field("data.test_per_class", 0, kNoMaximum, "images", "Test images per class",
                              "Test images per class (0 = all available)"));
    f.push_back(ranged_field(Type::number_list, "data.normalize_mean", -10.0, 10.0, "", "Normalisation mean",
                             "Per channel, subtracted from pixels in [0, 1]"));
    f.push_back(ranged_field(Type::number_list, "data.normalize_std", 1e-6, 10.0, "", "Normalisation std",
                             "Per channel, divides after the mean; empty = no normalisation"));
    f.push_back(boolean_field("data.augment.horizontal_flip", "Random horizontal flip",
                              "Flip training images left-right with probability 0.5"));
    f.push_back(integer_field("data.augment.random_crop_padding", 0, 64, "px", "Random crop padding",
                              "Pad training images by this many pixels (zeros), then crop back at a random offset"));
    f.push_back(choice_field("data.cifar100_labels", kCifar100LabelNames, "CIFAR-100 labels",
                             "cifar100: fine (100 classes) or coarse (20 superclasses)"));
    f.push_back(
        text_field("data.file_list", "File list",
                   "image-folder: a list file per split instead of class folders; {split} becomes train / test"));
    f.push_back(integer_field("data.resize_size", 0, 8192, "px", "Resize to",
                              "Shorter side before the centre crop to the image size; 0 = image size · 8 / 7"));
    f.push_back(integer_field("data.workers", 0, 256, "threads", "Decoder threads",
                              "Streamed data sets: background decoder threads (0 = hardware threads − 1)"));
    f.push_back(integer_field("data.cache_mb", 0, double(int64_t(1) << 20), "MiB", "Decoded-image cache",
                              "Streamed data sets: memory for decoded images, half for each split"));
    f.push_back(text_field("data.prepared", "Prepared images",
                           "Streamed data sets: a folder made by lorica-cli prepare (images decoded once, "
                           "memory-mapped); empty = decode the files every epoch"));

    f.push_back(choice_field("foundation.source", kFoundationSourceNames, "Foundation source",
                             "train: Lorica pre-trains the backbone on the first classes; weights: the task the "
                             "weights file was trained on (its own head, evaluated on foundation.data)"));
    f.push_back(text_field("foundation.data.root", "Foundation data",
                           "source = weights: the pre-training task's evaluation images (an ImageNet validation "
                           "folder by synset id)"));
    f.push_back(text_field("foundation.data.file_list", "Foundation file list",
                           "source = weights: '<path> <label>' lines instead of class folders (optional)"));
    f.push_back(integer_field("foundation.data.test_per_class", 0, kNoMaximum, "images", "Foundation images per class",
                              "source = weights: images per class evaluated (0 = all)"));
    f.push_back(boolean_field("foundation.enabled", "Foundation step",
                              "Pre-train the backbone on the first classes of the class order (cached)"));
    f.push_back(integer_field("foundation.classes", 1, kNoMaximum, "classes", "Foundation classes",
                              "Pre-training classes: the first N of the class order"));
    f.push_back(integer_field("foundation.train_per_class", 0, kNoMaximum, "images", "Foundation images per class",
                              "Taken before the stream's images, so the two never overlap (0 = all)"));
    f.push_back(integer_field("foundation.epochs", 0, 10000, "epochs", "Foundation epochs", "Pre-training epochs"));
    f.push_back(integer_field("foundation.batch_size", 1, double(1 << 20), "images", "Foundation batch size",
                              "Pre-training batch size"));
    add_optimizer_fields(f, "foundation", "Foundation ");

    f.push_back(choice_field("stream.type", kStreamTypeNames, "Stream type",
                             "class-incremental: new classes per task; domain-incremental: the same classes, a new "
                             "domain transform per task"));
    f.push_back(integer_field("stream.tasks", 1, 1000, "tasks", "Tasks", "Number of tasks in the stream"));
    f.push_back(
        integer_field("stream.classes_per_task", 1, 100000, "classes", "Classes per task", "Classes of each task"));
    {
        ConfigFieldSpec seed = integer_field("stream.class_order_seed", 0, kNoMaximum, "", "Class order seed",
                                             "Seed of numpy's RandomState(seed).permutation; null = the run's seed");
        seed.nullable = true;
        f.push_back(seed);
    }
    {
        ConfigFieldSpec domains;
        domains.path = "stream.domains";
        domains.type = Type::choice_list;
        domains.choices = spellings_of(kDomainTransformNames);
        domains.label = "Domains";
        domains.doc = "Domain transform per task (cycled when shorter than the stream)";
        f.push_back(domains);
    }
    f.push_back(boolean_field("stream.task_incremental", "Task-IL primary",
                              "Report task-incremental accuracy as the primary accuracy"));

    {
        ConfigFieldSpec preset = text_field("backbone.preset", "Backbone preset",
                                            "tiny (the CPU default ViT), a timm ViT size, tiny-resnet, resnet18 or "
                                            "resnet50; sets every size field");
        preset.type = Type::choice;
        for (std::string_view p : kBackbonePresets) preset.choices.emplace_back(p);
        f.push_back(preset);
    }
    f.push_back(integer_field("backbone.image_size", 1, 4096, "px", "Image size", "Side of the model's input images"));
    f.push_back(
        integer_field("backbone.patch_size", 1, 1024, "px", "Patch size", "Side of a patch; divides the image size"));
    f.push_back(integer_field("backbone.in_channels", 1, 16, "channels", "Input channels", "1 (grey) or 3 (RGB)"));
    f.push_back(integer_field("backbone.dim", 1, 65536, "", "Width", "Embedding dimension; the heads divide it"));
    f.push_back(integer_field("backbone.depth", 1, 256, "blocks", "Depth", "Transformer blocks"));
    f.push_back(integer_field("backbone.heads", 1, 1024, "", "Attention heads", "Attention heads per block"));
    f.push_back(number_field("backbone.mlp_ratio", 0.0625, 64.0, "", "MLP ratio", "MLP hidden width / width"));
    f.push_back(boolean_field("backbone.freeze_batchnorm", "Freeze BatchNorm",
                              "ResNets: keep the BatchNorm statistics fixed while adapting (the forgetting study's "
                              "setting)"));
    f.push_back(text_field("backbone.weights", "Weights file",
                           "timm-layout safetensors file loaded into the backbone before the foundation step"));

    {
        ConfigFieldSpec method =
            text_field("method.name", "Method", "The continual-learning method (registered methods)");
        method.type = Type::choice;
        for (const MethodDeclaration& m : method_declarations()) method.choices.push_back(m.name);
        f.push_back(method);
    }
    f.push_back(integer_field("method.rank", 1, 4096, "", "LoRA rank", "Rank r of each adapter"));
    f.push_back(number_field("method.alpha", 0.0, 1e6, "", "LoRA alpha", "LoRA scale s = alpha / rank"));
    {
        ConfigFieldSpec targets = text_field("method.targets", "Adapted layers",
                                             "ViT: q, k, v, qkv, proj, fc1, fc2, all-linear; ResNet: conv1, conv2, "
                                             "conv3, downsample, all-conv, stem; or a pattern like "
                                             "blocks.*.attn.qkv / layer*.*.conv3");
        targets.type = Type::text_list;
        f.push_back(targets);
    }

    f.push_back(integer_field("train.epochs", 0, 100000, "epochs", "Epochs", "Epochs per task"));
    f.push_back(integer_field("train.batch_size", 1, double(1 << 20), "images", "Batch size", "Training batch size"));
    add_optimizer_fields(f, "train", "");
    // The labels of the train optimizer's fields start lower-case after an empty prefix.
    for (ConfigFieldSpec& spec : f)
        if (spec.path.rfind("train.", 0) == 0 && !spec.label.empty() && spec.label[0] >= 'a' && spec.label[0] <= 'z')
            spec.label[0] = static_cast<char>(spec.label[0] - 'a' + 'A');
    f.push_back(choice_field("train.loss", kLossScopeNames, "Loss",
                             "current-task: over the current task's logits; all-seen: over every class seen so far"));
    f.push_back(number_field("train.grad_clip", 0.0, 1e9, "", "Gradient clip",
                             "Clip the global gradient norm to this value (0 = off)"));
    f.push_back(integer_field("train.max_steps_per_task", 0, kNoMaximum, "steps", "Steps per task at most",
                              "Stop a task after this many steps (0 = no limit)"));
    f.push_back(choice_field("train.precision", kPrecisionNames, "Precision",
                             "fp32, bf16 (autocast) or fp16 (autocast + loss scaling); weights stay fp32"));
    f.push_back(integer_field("train.loss_readback_steps", 0, double(1 << 20), "steps", "Loss read-back",
                              "Read step losses back from the device every N steps (0 = auto: 1 on CPU, 50 on GPU)"));
    f.push_back(choice_field("train.head_init", kHeadInitNames, "Head initialisation",
                             "normal: N(0, 0.02²); kaiming-uniform: U(±√(3/features)), bias 0 (the released "
                             "SD-LoRA / InfLoRA code's SimpleLinear)"));

    f.push_back(integer_field("eval.every_steps", 0, kNoMaximum, "steps", "Evaluate every",
                              "Also evaluate every N steps inside a task (0 = only at task ends)"));
    f.push_back(integer_field("eval.batch_size", 1, double(1 << 20), "images", "Evaluation batch size",
                              "Evaluation batch size"));
    f.push_back(boolean_field("eval.class_il", "Class-IL accuracy", "Evaluate class-incremental (all heads)"));
    f.push_back(boolean_field("eval.task_il", "Task-IL accuracy", "Evaluate task-incremental (the task's own head)"));
    f.push_back(boolean_field("eval.before_task", "Evaluate before each task",
                              "Evaluate task j just before training it (forward transfer)"));
    f.push_back(boolean_field("eval.random_init", "Evaluate a random backbone",
                              "Evaluate a randomly initialised backbone once (forward transfer)"));
    f.push_back(boolean_field("analysis.low_loss_region", "Low-loss region",
                              "Fine-tune a copy of the pre-trained backbone on each task alone and store the "
                              "distances between the tasks' optima and the continual weights (one extra training "
                              "per task)"));
    f.push_back(choice_field("analysis.low_loss_update", kLowLossUpdateNames, "Low-loss fine-tuning",
                             "lora: a LoRA of the method's rank and targets; full: every adapted weight"));
    return f;
}

std::string schema_number_text(double x) {
    if (std::isinf(x)) return "∞";
    std::ostringstream os;
    os << x;
    return os.str();
}

}  // namespace

std::string type_name(ConfigFieldType type) {
    switch (type) {
        case Type::boolean:
            return "boolean";
        case Type::integer:
            return "integer";
        case Type::number:
            return "number";
        case Type::text:
            return "text";
        case Type::choice:
            return "choice";
        case Type::integer_list:
            return "list of integers";
        case Type::number_list:
            return "list of numbers";
        case Type::text_list:
            return "list of text";
        case Type::choice_list:
            return "list of choices";
    }
    return "?";
}

std::string ConfigFieldSpec::section() const {
    const std::size_t dot = path.find('.');
    return dot == std::string::npos ? std::string() : path.substr(0, dot);
}

std::string ConfigFieldSpec::range_text() const {
    switch (type) {
        case Type::integer:
        case Type::number:
        case Type::integer_list:
        case Type::number_list:
            return "[" + schema_number_text(min) + ", " + schema_number_text(max) + (std::isinf(max) ? ")" : "]");
        default:
            return {};
    }
}

const std::vector<ConfigFieldSpec>& config_fields() {
    static const std::vector<ConfigFieldSpec> fields = declare_config_fields();
    return fields;
}

const ConfigFieldSpec* find_config_field(std::string_view path) {
    for (const ConfigFieldSpec& f : config_fields())
        if (f.path == path) return &f;
    return nullptr;
}

const ConfigFieldSpec& config_field(std::string_view path) {
    if (const ConfigFieldSpec* f = find_config_field(path)) return *f;
    throw std::logic_error("config field '" + std::string(path) + "' is not declared in config_schema.cpp");
}

nlohmann::json full_config_json(const ExperimentConfig& config) {
    nlohmann::json j = to_json(config);
    j["data"]["workers"] = config.data.workers;
    j["data"]["cache_mb"] = config.data.cache_mb;
    j["data"]["prepared"] = config.data.prepared;
    j["foundation"]["source"] = name_of(kFoundationSourceNames, config.foundation.source);
    j["foundation"]["data"] = {{"root", config.foundation.data.root},
                               {"file_list", config.foundation.data.file_list},
                               {"test_per_class", config.foundation.data.test_per_class}};
    j["backbone"]["freeze_batchnorm"] = config.backbone.freeze_batchnorm;
    j["train"]["head_init"] = name_of(kHeadInitNames, config.train.head_init);
    j["analysis"] = {{"low_loss_region", config.analysis.low_loss_region},
                     {"low_loss_update", name_of(kLowLossUpdateNames, config.analysis.low_loss_update)}};
    return j;
}

nlohmann::json config_fields_json() {
    nlohmann::json out = nlohmann::json::array();
    for (const ConfigFieldSpec& f : config_fields()) {
        nlohmann::json j = {{"path", f.path}, {"type", type_name(f.type)}, {"label", f.label}, {"doc", f.doc}};
        if (!f.choices.empty()) j["choices"] = f.choices;
        if (!f.range_text().empty()) {
            j["min"] = f.min;
            j["max"] = std::isinf(f.max) ? nlohmann::json(nullptr) : nlohmann::json(f.max);
        }
        if (!f.unit.empty()) j["unit"] = f.unit;
        if (f.nullable) j["nullable"] = true;
        out.push_back(std::move(j));
    }
    return out;
}

std::string config_fields_text() {
    std::size_t width = 0;
    for (const ConfigFieldSpec& f : config_fields()) width = std::max(width, f.path.size());
    std::string out;
    for (const ConfigFieldSpec& f : config_fields()) {
        std::string kind = type_name(f.type);
        if (!f.range_text().empty()) kind += " " + f.range_text();
        if (!f.unit.empty()) kind += " " + f.unit;
        if (!f.choices.empty()) {
            std::string c;
            for (const auto& choice : f.choices) c += (c.empty() ? "" : " | ") + choice;
            kind += (f.type == Type::text ? " (e.g. " : " (") + c + ")";
        }
        if (f.nullable) kind += " or null";
        out += f.path + std::string(width + 2 - f.path.size(), ' ') + kind + "\n" + std::string(width + 2, ' ') +
               f.label + ": " + f.doc + "\n";
    }
    return out;
}

}  // namespace lorica
