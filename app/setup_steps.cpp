#include "app/setup_steps.h"

#include <algorithm>

namespace lorica::app {

const std::vector<SetupStepInfo>& setup_steps() {
    static const std::vector<SetupStepInfo> steps = {
        {SetupStep::dataset,
         QStringLiteral("Data set"),
         QStringLiteral("Which images: the data set, where it is read from, and how many images of each class."),
         {"data.dataset", "data.root", "data.train_per_class", "data.test_per_class"},
         {"data.file_list", "data.cifar100_labels", "data.normalize_mean", "data.normalize_std",
          "data.augment.horizontal_flip", "data.augment.random_crop_padding", "data.resize_size", "data.workers",
          "data.cache_mb", "data.prepared"}},
        {SetupStep::stream,
         QStringLiteral("Stream"),
         QStringLiteral("How the data set is cut into tasks: tasks × classes per task, the stream type, each task's "
                        "domain and the seed of the class order."),
         {"stream.type", "stream.tasks", "stream.classes_per_task", "stream.domains", "stream.class_order_seed"},
         {"stream.task_incremental"}},
        {SetupStep::backbone,
         QStringLiteral("Backbone"),
         QStringLiteral("The Vision Transformer the adapters are trained on: a preset size or a timm weights file, "
                        "and the foundation step that pre-trains it on the first classes."),
         {"backbone.preset", "backbone.weights", "foundation.enabled", "foundation.classes"},
         {"backbone.image_size",
          "backbone.patch_size",
          "backbone.in_channels",
          "backbone.dim",
          "backbone.depth",
          "backbone.heads",
          "backbone.mlp_ratio",
          "foundation.train_per_class",
          "foundation.epochs",
          "foundation.batch_size",
          "foundation.optimizer.name",
          "foundation.optimizer.lr",
          "foundation.optimizer.head_lr",
          "foundation.optimizer.weight_decay",
          "foundation.optimizer.beta1",
          "foundation.optimizer.beta2",
          "foundation.optimizer.momentum",
          "foundation.schedule.name",
          "foundation.schedule.warmup_fraction",
          "foundation.schedule.min_lr_fraction"}},
        {SetupStep::method,
         QStringLiteral("Method"),
         QStringLiteral("The continual-learning method, the LoRA rank, scale and adapted layers, and the method's "
                        "own options."),
         {"method.name", "method.rank", "method.alpha", "method.targets"},
         {}},
        {SetupStep::training,
         QStringLiteral("Training"),
         QStringLiteral("How each task is trained, how the stream is evaluated, and the analyses run beside it."),
         {"train.epochs", "train.batch_size", "train.optimizer.lr", "train.optimizer.head_lr", "train.schedule.name",
          "train.loss", "train.max_steps_per_task", "train.precision", "eval.class_il", "eval.task_il",
          "eval.before_task", "eval.random_init", "eval.every_steps", "analysis.low_loss_region",
          "analysis.low_loss_update"},
         {"train.optimizer.name", "train.optimizer.weight_decay", "train.optimizer.beta1", "train.optimizer.beta2",
          "train.optimizer.momentum", "train.schedule.warmup_fraction", "train.schedule.min_lr_fraction",
          "train.grad_clip", "train.loss_readback_steps", "train.head_init", "eval.batch_size"}},
        {SetupStep::summary,
         QStringLiteral("Summary"),
         QStringLiteral("The experiment's name, seeds and device; what it will train and for about how long."),
         {"name", "seeds", "device"},
         {"threads", "cache_dir"}},
    };
    return steps;
}

const SetupStepInfo& setup_step(SetupStep step) { return setup_steps().at(static_cast<size_t>(step)); }

SetupStep setup_step_of_section(const std::string& section) {
    if (section == "data") return SetupStep::dataset;
    if (section == "stream") return SetupStep::stream;
    if (section == "backbone" || section == "foundation") return SetupStep::backbone;
    if (section == "method") return SetupStep::method;
    if (section == "train" || section == "eval" || section == "analysis") return SetupStep::training;
    return SetupStep::summary;
}

SetupStep setup_step_of_field(const std::string& field) {
    for (const auto& s : setup_steps())
        if (std::find(s.fields.begin(), s.fields.end(), field) != s.fields.end() ||
            std::find(s.more.begin(), s.more.end(), field) != s.more.end())
            return s.step;
    if (field.rfind("method.options", 0) == 0) return SetupStep::method;
    const std::size_t dot = field.find('.');
    return setup_step_of_section(dot == std::string::npos ? std::string() : field.substr(0, dot));
}

}  // namespace lorica::app
