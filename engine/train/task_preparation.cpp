#include "engine/train/task_preparation.h"

#include <algorithm>

#include "engine/util/seed_offsets.h"

namespace lorica {

int64_t pass_steps(const TrainConfig& train, int64_t images) {
    const int64_t per_epoch = (images + train.batch_size - 1) / train.batch_size;
    int64_t steps = per_epoch * train.epochs;
    if (train.max_steps_per_task > 0) steps = std::min(steps, train.max_steps_per_task);
    return steps;
}

TrainConfig task_train_config(const TrainConfig& train, const TaskSpec& task) {
    TrainConfig out = train;
    if (task.epochs > 0) out.epochs = task.epochs;
    return out;
}

uint64_t head_seed(int64_t run_seed, int head) {
    return derived_seed(static_cast<uint64_t>(run_seed), SeedStream::stream_head, static_cast<uint64_t>(head));
}

void add_task_head(TaskHeads& heads, const TaskSpec& task, int64_t run_seed, torch::Device device) {
    if (task.head >= heads->size())
        heads->add_head(static_cast<int64_t>(task.classes.size()), head_seed(run_seed, task.head), device);
}

TaskPreparation prepare_task(TaskHeads& heads, const TrainConfig& train, int head) {
    TaskPreparation out;
    out.head = head;
    out.all_seen = train.loss == LossScope::all_seen;
    out.target_offset = out.all_seen ? heads->offset(head) : 0;
    std::vector<int> trained;
    for (int h = out.all_seen ? 0 : head; h <= head; ++h) trained.push_back(h);
    for (int h = 0; h < heads->size(); ++h)
        for (auto& p : heads->head(h)->parameters()) p.set_requires_grad(false);
    out.head_params = heads->parameters_of(trained);
    for (auto& p : out.head_params) p.set_requires_grad(true);
    out.head_lr = train.optimizer.head_lr > 0 ? train.optimizer.head_lr : train.optimizer.lr;
    return out;
}

torch::Tensor task_targets(const TaskPreparation& task, const torch::Tensor& local_labels) {
    return task.all_seen ? local_labels + task.target_offset : local_labels;
}

PassOptimizer make_pass_optimizer(AdapterMethod& method, MethodContext& ctx, const TaskPreparation& task,
                                  const OptimizerConfig& optimizer) {
    PassOptimizer out;
    out.groups = method.parameter_groups(ctx);
    out.groups.push_back({"heads", task.head_params, task.head_lr, optimizer.weight_decay});
    out.optimizer = make_optimizer(optimizer, out.groups);
    for (const auto& g : out.groups) out.trainable.insert(out.trainable.end(), g.params.begin(), g.params.end());
    return out;
}

}  // namespace lorica
