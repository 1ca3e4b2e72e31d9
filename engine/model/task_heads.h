#pragma once
// Classifier heads of a continual stream: one linear head per task (class-incremental: the growing
// head is the concatenation of the task heads, old rows kept as they are; domain-incremental: every
// task shares head 0).
//
//   class-IL logits after task t: cat(head_0(f), ..., head_t(f))    [batch, Σ classes]
//   task-IL logits of task j:     head_j(f)                          [batch, classes of task j]
//
// Each head is initialised from its own seed (run seed, head index), so the same head can be
// rebuilt elsewhere (the random-init evaluation uses the very head the stream will train).

#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>

namespace lorica {

class TaskHeadsImpl : public torch::nn::Module {
public:
    explicit TaskHeadsImpl(int64_t feature_dim);

    // Appends a head with `classes` outputs; returns its index. Weights ~ N(0, 0.02²) drawn from a
    // generator seeded with `seed`, bias 0.
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
    torch::nn::ModuleList heads{nullptr};
};
TORCH_MODULE(TaskHeads);

}  // namespace lorica
