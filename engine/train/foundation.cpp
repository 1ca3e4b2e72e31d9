#include "engine/train/foundation.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "engine/util/log.h"
#include "engine/util/paths.h"
#include "engine/util/seed_offsets.h"
#include <torch/torch.h>

#include "engine/config/data_residence.h"
#include "engine/data/batcher.h"
#include "engine/io/safetensors.h"
#include "engine/model/resnet.h"
#include "engine/runtime/device_transfer.h"
#include "engine/train/grad_scaler.h"
#include "engine/train/loss_readback.h"
#include "engine/train/lr_schedule.h"
#include "engine/train/optimizer_factory.h"
#include "engine/train/precision.h"

namespace lorica {

namespace fs = std::filesystem;

std::string resolve_cache_dir(const ExperimentConfig& config) {
    return config.cache_dir.empty() ? default_cache_dir() : config.cache_dir;
}

std::string foundation_hash(const ExperimentConfig& config, int64_t seed) {
    nlohmann::json full = to_json(config);
    nlohmann::json key = {
        {"format", 1},
        {"seed", seed},
        {"class_order_seed", config.stream.class_order_seed.value_or(seed)},
        {"data",
         {{"dataset", full["data"]["dataset"]},
          {"root", full["data"]["root"]},
          {"test_per_class", full["data"]["test_per_class"]},
          {"normalize_mean", full["data"]["normalize_mean"]},
          {"normalize_std", full["data"]["normalize_std"]}}},
        {"foundation", full["foundation"]},
        {"backbone", full["backbone"]},
    };
    // Streamed data sets (image folders, CIFAR above 32 px) train the foundation on the train
    // transform of the streaming pipeline: their key says so (in-memory data sets keep theirs).
    if (data_is_streamed(config.data, config.backbone))
        key["pipeline"] = {{"streamed", 1},
                           {"resize_size", config.data.resize_size},
                           {"file_list", config.data.file_list},
                           {"cifar100_labels", name_of(kCifar100LabelNames, config.data.cifar100_labels)}};
    return config_hash(key);
}

int64_t weights_head_classes(const BackboneConfig& backbone) {
    const std::string head = backbone.family == BackboneFamily::resnet ? "fc.weight" : "head.weight";
    try {
        const SafetensorsFile file = SafetensorsFile::open(backbone.weights);
        if (!file.contains(head) || file.tensor(head).shape.size() != 2 || file.tensor(head).shape[0] < 1)
            throw ConfigError("backbone.weights", backbone.weights + " has no head (no 2-d tensor '" + head +
                                                      "'): foundation.source = weights evaluates the weights' own "
                                                      "head (use a file with its classifier, or foundation.source = "
                                                      "train)");
        return static_cast<int64_t>(file.tensor(head).shape[0]);
    } catch (const SafetensorsError& e) {
        throw ConfigError("backbone.weights", e.what());
    }
}

void bind_weights_foundation(StreamData& data, int64_t head_classes) {
    for (int c : data.spec.foundation_classes)
        if (c >= head_classes) {
            const std::string name = c < static_cast<int>(data.foundation_class_names.size())
                                         ? " ('" + data.foundation_class_names[c] + "')"
                                         : "";
            throw ConfigError("foundation.data.root", "has images of class " + std::to_string(c) + name +
                                                          ", but the head of backbone.weights has " +
                                                          std::to_string(head_classes) +
                                                          " outputs (the foundation data's classes must "
                                                          "match the head)");
        }
    data.spec.foundation_head_classes.resize(static_cast<size_t>(head_classes));
    for (int64_t k = 0; k < head_classes; ++k) data.spec.foundation_head_classes[static_cast<size_t>(k)] = int(k);
}

void prepare_foundation(Backbone model, const ExperimentConfig& config, const StreamData& data, int64_t seed,
                        torch::Device device, EventListener& events, CancelToken& cancel) {
    const FoundationConfig& fc = config.foundation;
    const fs::path dir = fs::path(resolve_cache_dir(config)) / "foundation";
    const fs::path file = dir / (foundation_hash(config, seed) + ".pt");

    if (fs::exists(file)) {
        try {
            torch::load(model, file.string(), torch::kCPU);
            events.on_event(FoundationProgress{0, 0, 0.0, true, file.string()});
            return;
        } catch (const std::exception& e) {
            events.on_event(Warning{"foundation checkpoint " + file.string() + " is unreadable (" + e.what() +
                                    "); training the foundation again"});
        }
    }

    model->to(device);
    model->train();
    const BatchNormStatisticsTraining pretraining(model);  // ResNets: frozen BatchNorm applies to adapting only
    const auto& train = data.foundation_train;
    Batcher batcher(train.size(), fc.batch_size,
                    derived_seed(static_cast<uint64_t>(seed), SeedStream::foundation_batches));
    const int64_t total = batcher.batches_per_epoch() * fc.epochs;
    std::vector<ParamGroup> groups = {{"foundation", model->parameters(), fc.optimizer.lr, fc.optimizer.weight_decay}};
    TaskOptimizer opt = make_optimizer(fc.optimizer, groups);
    auto targets = local_labels(train.labels, data.spec.foundation_classes).to(device);
    SampleSource& images = *train.samples;
    // Losses stay on the device and are read back with each progress report (every 10 steps); the
    // NaN/Inf check still names the first non-finite step. Forward under train.precision.
    const Precision precision = config.train.precision;
    GradScaler scaler(precision == Precision::fp16);
    LossReadback losses(10);
    int64_t step = 0;
    for (int epoch = 0; epoch < fc.epochs; ++epoch) {
        const std::vector<torch::Tensor> batches = batcher.epoch(epoch);
        const uint64_t batch_seed =
            mix_seed(derived_seed(static_cast<uint64_t>(seed), SeedStream::foundation_batch_transforms), epoch);
        images.plan(batches, BatchMode::train, batch_seed);
        for (const auto& index_cpu : batches) {
            cancel.checkpoint();
            auto index = to_device(index_cpu, device);
            opt.set_lr_multiplier(lr_multiplier(fc.schedule, step, total));
            opt.optimizer->zero_grad();
            torch::Tensor loss;
            {
                AutocastScope autocast(precision, device);
                loss = torch::nn::functional::cross_entropy(
                    model->forward(images.batch_on(index_cpu, BatchMode::train, batch_seed, device)),
                    targets.index_select(0, index));
            }
            scaler.scale(loss).backward();
            if (scaler.unscale(groups.front().params)) opt.optimizer->step();
            scaler.update();
            losses.push(loss);
            ++step;
            if (step % 10 == 0 || step == total) {
                const std::vector<double> values = losses.read();  // steps step - size + 1 .. step
                for (size_t i = 0; i < values.size(); ++i)
                    if (!std::isfinite(values[i]))
                        throw std::runtime_error("foundation step " +
                                                 std::to_string(step - int64_t(values.size()) + 1 + int64_t(i)) +
                                                 ": loss is " + std::to_string(values[i]));
                events.on_event(FoundationProgress{step, total, values.back(), false, ""});
            }
        }
    }
    model->to(torch::kCPU);
    fs::create_directories(dir);
    const fs::path tmp = file.string() + ".tmp" + std::to_string(::getpid());
    torch::save(model, tmp.string());
    fs::rename(tmp, file);
    events.on_event(ArtifactWritten{"foundation_checkpoint", file.string(), nlohmann::json{{"steps", total}}.dump()});
}

}  // namespace lorica
