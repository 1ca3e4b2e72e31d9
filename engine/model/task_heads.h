#pragma once
// Classifier heads of a continual stream: one linear head per task (class-incremental: the growing
// head is the concatenation of the task heads, old rows kept as they are; domain-incremental: every
// task shares head 0).
//
//   class-IL logits after task t: cat(head_0(f), ..., head_t(f))    [batch, Σ classes]
//   task-IL logits of task j:     head_j(f)                          [batch, classes of task j]
//
// Each head is initialised from its own seed (run seed, head index), so the same head can be
// rebuilt elsewhere (the random-init evaluation uses the very head the stream will train). How a new
// head starts is the heads' HeadInit (train.head_init, engine/config/experiment_config.h):
//   normal           W ~ N(0, 0.02²)                                  [classes, features], b = 0
//   kaiming-uniform  W ~ U(−√(3 / features), √(3 / features)), b = 0  (torch.nn.init.kaiming_uniform_
//                    with nonlinearity='linear': gain 1, fan_in = features; the SD-LoRA code's
//                    SimpleLinear.reset_parameters, WuYichen-97/SD-Lora-CL backbone/linears.py lines 27-29)
// Both draw from a CPU generator seeded with the head's seed only, so a head is the same on every device.

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

#include "engine/config/experiment_config.h"

namespace lorica {

class TaskHeadsImpl : public torch::nn::Module {
public:
    explicit TaskHeadsImpl(int64_t feature_dim, HeadInit init = HeadInit::normal);

    // Appends a head with `classes` outputs; returns its index. Weights drawn as `init` says (above)
    // from a generator seeded with `seed`, bias 0.
    int add_head(int64_t classes, uint64_t seed, torch::Device device);

    int size() const { return static_cast<int>(heads->size()); }
    int64_t classes(int head) const;
    int64_t offset(int head) const;  // first class-IL logit of this head
    torch::nn::Linear head(int index) const;

    // features [batch, dim] → logits of heads [0, last] concatenated: [batch, offset(last) + classes(last)]
    torch::Tensor logits_upto(const torch::Tensor& features, int last);
    // features [batch, dim] → logits of one head [batch, classes(index)]
    torch::Tensor logits_of(const torch::Tensor& features, int index);

    // Parameters of the listed heads.
    std::vector<torch::Tensor> parameters_of(const std::vector<int>& indices);

    int64_t feature_dim;
    HeadInit init = HeadInit::normal;  // how add_head draws a new head's weights
    torch::nn::ModuleList heads{nullptr};
};
TORCH_MODULE(TaskHeads);

}  // namespace lorica
