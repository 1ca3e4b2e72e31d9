#pragma once
// The experiment config: one JSON document describing a whole continual-learning experiment.
//
// Sections (every field optional; omitted fields take the defaults below, which are the embedded
// Fashion-MNIST default experiment of resources/presets/default.json):
//
//   name, seeds[], device ("auto"|"cpu"|"cuda"), threads (0 = all cores), database, cache_dir
//   data       { dataset, root, train_per_class, test_per_class, normalize_mean[], normalize_std[], augment{},
//                cifar100_labels, file_list, resize_size, workers, cache_mb, prepared }
//   foundation { source, data{root, file_list, test_per_class}, enabled, classes, train_per_class, epochs,
//                batch_size, optimizer{}, schedule{} }
//   stream     { type, tasks, classes_per_task, class_order_seed, domains[], task_incremental,
//                datasets[{name, dataset, root, file_list, epochs, train_per_class, test_per_class,
//                          subset_fraction, domain}] }
//   backbone   { preset, image_size, patch_size, in_channels, dim, depth, heads, mlp_ratio, weights,
//                freeze_batchnorm }
//   method     { name, rank, alpha, targets[], options{} }
//   train      { epochs, batch_size, optimizer{}, schedule{}, loss, grad_clip, max_steps_per_task,
//                precision (fp32|bf16|fp16), loss_readback_steps, head_init }
//   eval       { every_steps, batch_size, class_il, task_il, before_task, random_init }
//   analysis   { low_loss_region, low_loss_update }
//   variants   [ {label, set{}} ], sweep { field, values[], alpha_per_rank }   (variant_spec.h)
//
// `parse_experiment_config` validates every field and throws `ConfigError` naming the field path
// (e.g. "train.optimizer.lr") and what is allowed. Unknown fields are errors (a typo must never be
// silently ignored). `to_json` gives the effective config, stored with every run. Each field's range,
// choices, unit, doc and readable label are declared once in config_schema.h, which the parser reads;
// the facts about each data set (classes, names, layouts) are in dataset_catalog.h.

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/backbone_family.h"
#include "engine/config/dataset_catalog.h"
#include "engine/config/enum_names.h"
#include "engine/config/variant_spec.h"
#include "engine/vocabulary/stream_type.h"

namespace lorica {

// A config error: `field` is the dotted path of the offending field ("" for the whole document).
class ConfigError : public std::runtime_error {
public:
    ConfigError(std::string field, const std::string& message)
        : std::runtime_error(field.empty() ? message : "config field '" + field + "': " + message),
          field_(std::move(field)) {}
    const std::string& field() const { return field_; }

private:
    std::string field_;
};

// The closed sets of the config are enums once parsed; each has one table of its JSON spellings
// (enum_names.h), read by the parser, written back by to_json and listed by the field schema
// (config_schema.h). The data sets (DatasetId, Cifar100Labels) are in dataset_catalog.h.

// The optimizer of a training pass: torch::optim::AdamW, Adam or SGD (with momentum).
enum class OptimizerAlgorithm { adamw, adam, sgd };
inline constexpr EnumNames<OptimizerAlgorithm, 3> kOptimizerAlgorithmNames{
    {{OptimizerAlgorithm::adamw, "adamw"}, {OptimizerAlgorithm::adam, "adam"}, {OptimizerAlgorithm::sgd, "sgd"}}};

// The shape of the learning rate over a task's steps after warm-up (engine/train/lr_schedule.h).
enum class ScheduleShape { constant, cosine };
inline constexpr EnumNames<ScheduleShape, 2> kScheduleShapeNames{
    {{ScheduleShape::constant, "constant"}, {ScheduleShape::cosine, "cosine"}}};

// Which logits the training loss covers:
//   current_task  cross-entropy over the current task's logits only (old heads get no gradient)
//   all_seen      cross-entropy over the logits of every class seen so far
enum class LossScope { current_task, all_seen };
inline constexpr EnumNames<LossScope, 2> kLossScopeNames{
    {{LossScope::current_task, "current-task"}, {LossScope::all_seen, "all-seen"}}};

// The domain transform of a task (engine/data/domain_transform.h): identity, rotations by 90°,
// 180°, 270°, pixel inversion, horizontal / vertical flip, the 4×4 grid of patches permuted.
enum class DomainTransform { identity, rot90, rot180, rot270, invert, hflip, vflip, patch_permute };
inline constexpr EnumNames<DomainTransform, 8> kDomainTransformNames{
    {{DomainTransform::identity, "identity"},
     {DomainTransform::rot90, "rot90"},
     {DomainTransform::rot180, "rot180"},
     {DomainTransform::rot270, "rot270"},
     {DomainTransform::invert, "invert"},
     {DomainTransform::hflip, "hflip"},
     {DomainTransform::vflip, "vflip"},
     {DomainTransform::patch_permute, "patch_permute"}}};

// The backbone presets (backbone.preset): "tiny", the CPU default ViT, and timm's ViT sizes; the
// residual networks "tiny-resnet" (the CPU default's size, 1 channel, 28 px) and timm's resnet18 /
// resnet50 (224 px). The preset sets the family (backbone_family.h).
inline constexpr std::array<std::string_view, 7> kBackbonePresets = {
    "tiny",    "vit_tiny_patch16_224", "vit_small_patch16_224", "vit_base_patch16_224", "tiny-resnet", "resnet18",
    "resnet50"};

struct OptimizerConfig {
    OptimizerAlgorithm name = OptimizerAlgorithm::adamw;
    double lr = 5e-4;       // learning rate of the adapter / backbone parameters
    double head_lr = 2e-3;  // learning rate of the classifier heads (0 = same as lr)
    double weight_decay = 0.0;
    double beta1 = 0.9, beta2 = 0.999;  // adam/adamw
    double momentum = 0.9;              // sgd
};

struct ScheduleConfig {
    ScheduleShape name = ScheduleShape::constant;  // per task, with linear warm-up
    double warmup_fraction = 0.0;                  // fraction of the task's steps spent warming up linearly from 0
    double min_lr_fraction = 0.0;                  // cosine floor, as a fraction of the peak lr
};

struct AugmentConfig {
    bool horizontal_flip = false;  // random left-right flip with probability 0.5
    int random_crop_padding = 0;   // pad by this many pixels (zeros), then crop back at a random offset
};

struct DataConfig {
    DatasetId dataset = DatasetId::fashion_mnist;   // fashion-mnist | cifar10 | cifar100 | image-folder
    std::string root;                               // "" = the data set's default location
    int64_t train_per_class = 2000;                 // stream training images per class (0 = all available)
    int64_t test_per_class = 500;                   // test images per class (0 = all available)
    std::vector<double> normalize_mean = {0.2860};  // per channel, applied to pixels in [0, 1]
    std::vector<double> normalize_std = {0.3530};   // per channel; empty = no normalisation
    AugmentConfig augment;
    // cifar100: which label byte is the class: "fine" (100 classes) or "coarse" (20 superclasses).
    Cifar100Labels cifar100_labels = Cifar100Labels::fine;
    // image-folder: a list file instead of scanning root/<class>/ folders. "{split}" is replaced by
    // "train" / "test" (e.g. "clipart_{split}.txt"); each line "<path relative to root> <label index>".
    std::string file_list;
    // image-folder: images are resized (shorter side, bicubic) to resize_size, then centre-cropped to
    // backbone.image_size (the published test transform: 256 → 224). 0 = image_size · 8 / 7.
    int resize_size = 0;
    // Streamed data sets (image-folder; cifar10/cifar100 when backbone.image_size > 32): background
    // decoder threads (0 = hardware threads − 1, at least 1) and the bound, in MiB, on the decoded
    // images kept in memory (half for each split). Neither changes a result (only speed and memory),
    // so neither is part of the effective config unless set to a non-default value.
    int workers = 0;
    int64_t cache_mb = 64;
    // Streamed data sets: a folder made by `lorica-cli prepare` (engine/data/prepared/): every image
    // decoded once, resized to resize_size and stored as memory-mapped 8-bit shards; training and
    // evaluation then read those instead of decoding files (the crops are the same up to the resize
    // step's rounding). "" = decode the files every epoch. A folder prepared from other data or
    // another resize size is refused (ConfigError naming data.prepared).
    std::string prepared;
};

// Where the foundation (pre-training) task comes from (foundation.source):
//   train    Lorica pre-trains the backbone on the first `classes` classes of the class order (cached)
//   weights  the task the weights file was trained on: its own head (timm's ImageNet-1k head for timm's
//            ViT and ResNet files) evaluated on foundation.data, before the stream and after every task
enum class FoundationSource { train, weights };
inline constexpr EnumNames<FoundationSource, 2> kFoundationSourceNames{
    {{FoundationSource::train, "train"}, {FoundationSource::weights, "weights"}}};

// The foundation task's evaluation data for foundation.source = weights (foundation.data): an image
// folder laid out by class folder (an ImageNet validation folder by synset id "n01440764/...": the
// folders sorted are the head's outputs in order, the standard sorted-synset order) or a file list
// "<path relative to root> <label index>" whose labels index the head's outputs directly.
struct FoundationDataConfig {
    std::string root;            // required for source = weights
    std::string file_list;       // "" = class folders under root
    int64_t test_per_class = 0;  // images per class evaluated (0 = all)
};

struct FoundationConfig {
    FoundationSource source = FoundationSource::train;
    FoundationDataConfig data;       // source = weights only
    bool enabled = true;             // pre-train the backbone inside Lorica (cached by config hash)
    int classes = 5;                 // the first `classes` entries of the class order
    int64_t train_per_class = 3000;  // taken before the stream's images, so the two never overlap
    int epochs = 6;
    int64_t batch_size = 128;
    OptimizerConfig optimizer{OptimizerAlgorithm::adamw, 1e-3, 0.0, 0.05};
    ScheduleConfig schedule{ScheduleShape::cosine, 0.05, 0.0};
};

// How a stream cuts the data set into tasks (StreamType, its spellings kStreamTypeNames):
// engine/vocabulary/stream_type.h.

// One task of a data-set stream (stream.datasets[i]). The data set is read with data.*'s transform
// (normalisation, resize, augmentation, workers); each entry names its own data.
struct DatasetTaskConfig {
    std::string name;                             // label in views and tables; "" = the root's folder name
    DatasetId dataset = DatasetId::image_folder;  // any loader: image-folder, cifar10, cifar100, fashion-mnist
    std::string root;                             // required (fashion-mnist: "" = its default location)
    std::string file_list;                        // image-folder: list files instead of folders ("{split}")
    int epochs = 0;                               // 0 = train.epochs
    int64_t train_per_class = 0;                  // 0 = all available
    int64_t test_per_class = 0;                   // 0 = all available
    // (0, 1]: train on a random part of the training split, drawn from (run seed, task index); the
    // forgetting study's long stream trains each data set twice on halves.
    double subset_fraction = 1.0;
    // A WordNet noun naming the task's domain ("car", "flower", "aircraft", "bird"), used by the
    // contextual-forgetting analysis next to the task's class names; "" = none.
    std::string domain;
};

struct StreamConfig {
    StreamType type = StreamType::class_incremental;
    int tasks = 5;
    int classes_per_task = 2;
    std::optional<int64_t> class_order_seed;  // default: the run's seed
    std::vector<DatasetTaskConfig> datasets;  // type = datasets: one entry per task (tasks = their number)
    // Domain transform per task (cycled when shorter than `tasks`): identity, rot90, rot180, rot270,
    // invert, hflip, vflip, patch_permute (the 4×4 grid of patches shuffled by a fixed permutation).
    std::vector<DomainTransform> domains = {DomainTransform::rot90, DomainTransform::invert, DomainTransform::rot180,
                                            DomainTransform::patch_permute, DomainTransform::rot270};
    bool task_incremental = false;  // report task-IL as the primary accuracy
};

struct BackboneConfig {
    // tiny: the CPU default below; vit_tiny_patch16_224 | vit_small_patch16_224 | vit_base_patch16_224
    // set every size field to timm's values for that model; tiny-resnet | resnet18 | resnet50 are
    // residual networks (their sizes are the preset's; image_size and in_channels apply).
    std::string preset = "tiny";
    BackboneFamily family = BackboneFamily::vit;  // set by the preset, not a config field
    int image_size = 28;
    int patch_size = 7;
    int in_channels = 1;
    int dim = 64;
    int depth = 3;
    int heads = 4;
    double mlp_ratio = 4.0;
    // Optional timm-layout safetensors file (io/timm_weights.h) loaded into the backbone before the
    // foundation step; with foundation.enabled = false the weights are used as they are.
    std::string weights;
    // ResNets: BatchNorm running statistics stay as loaded/pre-trained while adapting (the BatchNorm
    // layers are kept in eval mode during stream training; their affine parameters train only where
    // the method trains the backbone). false = BatchNorm updates its statistics in training mode.
    bool freeze_batchnorm = true;
};

struct MethodConfig {
    // sequential-lora | full-finetune | frozen-backbone  (more methods register themselves)
    std::string name = "sequential-lora";
    int rank = 8;
    double alpha = 8.0;  // LoRA scale s = alpha / rank
    // Adapted layers: "q", "v", "k" (slices of the fused qkv), "qkv", "proj", "fc1", "fc2",
    // "all-linear", or a module-name pattern with '*' wildcards such as "blocks.*.attn.qkv"
    // (append ":q", ":k" or ":v" to a qkv pattern for a slice).
    std::vector<std::string> targets = {"q", "v"};
    nlohmann::json options = nlohmann::json::object();  // method-specific, validated by the method
};

// Arithmetic of the training (and evaluation) forward pass, engine/train/precision.h:
//   fp32  plain fp32 (on a GPU, fp32 matmuls may use TF32)
//   bf16  autocast to bfloat16 (CPU and GPU)
//   fp16  autocast to float16, with a dynamic loss scale (engine/train/grad_scaler.h)
// What trains stays fp32 in every mode (fp32 master weights; autocast casts per operation).
enum class Precision { fp32, bf16, fp16 };
inline constexpr EnumNames<Precision, 3> kPrecisionNames{
    {{Precision::fp32, "fp32"}, {Precision::bf16, "bf16"}, {Precision::fp16, "fp16"}}};
inline constexpr int64_t kAutoCudaLossReadbackSteps = 50;

// How a new task head (nn.Linear [classes, features]) starts (train.head_init):
//   normal           weight ~ N(0, 0.02²), bias 0 (timm's head initialisation; Lorica's default)
//   kaiming-uniform  weight ~ U(−b, b), b = √(3 / features) (kaiming_uniform_ with nonlinearity='linear'),
//                    bias 0: the released SD-LoRA / InfLoRA code's SimpleLinear
enum class HeadInit { normal, kaiming_uniform };
inline constexpr EnumNames<HeadInit, 2> kHeadInitNames{
    {{HeadInit::normal, "normal"}, {HeadInit::kaiming_uniform, "kaiming-uniform"}}};

struct TrainConfig {
    int epochs = 3;
    int64_t batch_size = 128;
    OptimizerConfig optimizer;
    ScheduleConfig schedule;
    LossScope loss = LossScope::current_task;  // which logits the loss covers (see LossScope)
    double grad_clip = 0.0;                    // clip the global gradient norm to this value (0 = off)
    int64_t max_steps_per_task = 0;            // stop a task early after this many steps (0 = no limit)
    Precision precision = Precision::fp32;     // arithmetic of the forward pass (see Precision)
    // Read the step losses back to the host every N steps (one device→host copy per block; every
    // step's loss is still reported). 0 = auto: 1 on the CPU, kAutoCudaLossReadbackSteps on a GPU.
    int64_t loss_readback_steps = 0;
    HeadInit head_init = HeadInit::normal;  // how each new task head starts (see HeadInit)
};

struct EvalConfig {
    int64_t every_steps = 0;  // also evaluate every N steps inside a task (0 = only at task ends)
    int64_t batch_size = 512;
    bool class_il = true;
    bool task_il = true;
    bool before_task = true;  // evaluate task j just before training it (forward transfer)
    bool random_init = true;  // evaluate a randomly initialised backbone once (forward transfer)
};

// What the low-loss-region analysis fine-tunes on each task alone, from the pre-trained weights
// (analysis.low_loss_update): a LoRA of the method's rank and targets (merged into W*_t), or every
// weight the method adapts, fully.
enum class LowLossUpdate { lora, full };
inline constexpr EnumNames<LowLossUpdate, 2> kLowLossUpdateNames{
    {{LowLossUpdate::lora, "lora"}, {LowLossUpdate::full, "full"}}};

// Analyses a run can ask for beside its method's own (off by default: each costs training time).
struct AnalysisConfig {
    // SD-LoRA's Finding 1a: after each task t, fine-tune a copy of the pre-trained backbone on task t
    // alone (same epochs, optimizer and batches), keep its optimum W*_t, and store the distances
    // ‖W*_i − W*_j‖_F, ‖W*_i − W₀‖_F, their ratio, and ‖W_t − W*_i‖_F for the continual run's weights.
    bool low_loss_region = false;
    LowLossUpdate low_loss_update = LowLossUpdate::lora;
};

struct ExperimentConfig {
    std::string name = "default";
    std::vector<int64_t> seeds = {0};
    std::string device = "auto";  // auto | cpu | cuda | cuda:N
    int threads = 0;              // LibTorch intra-op threads; 0 = all cores
    std::string cache_dir;        // "" = $XDG_CACHE_HOME/lorica or ~/.cache/lorica
    DataConfig data;
    FoundationConfig foundation;
    StreamConfig stream;
    BackboneConfig backbone;
    MethodConfig method;
    TrainConfig train;
    EvalConfig eval;
    AnalysisConfig analysis;
    // Several variants of this experiment in one (variant_spec.h, experiment_variants.h); empty = one.
    std::vector<VariantSpec> variants;
    SweepSpec sweep;
};

// Parses and validates; throws ConfigError naming the field.
ExperimentConfig parse_experiment_config(const nlohmann::json& document);
nlohmann::json to_json(const ExperimentConfig& config);

// Reads a JSON file (errors name the file and the JSON parser's position) and parses it.
ExperimentConfig load_experiment_config(const std::string& path);

// Applies `key=value` overrides to a config document. `key` is a dotted path ("train.epochs",
// "method.options.handover"); `value` is parsed as JSON when it parses ("3", "[0,1,2]", "true"),
// else taken as a string. Unknown paths are caught later by validation.
void apply_override(nlohmann::json& document, const std::string& assignment);

// Hex digest (FNV-1a 64) of the canonical dump of a JSON value: equal configs hash equal.
std::string config_hash(const nlohmann::json& document);

// The timm sizes for a named backbone preset; throws ConfigError for an unknown name.
BackboneConfig backbone_preset(const std::string& name);

}  // namespace lorica
