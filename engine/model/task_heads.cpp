#include "engine/model/task_heads.h"

#include <cmath>

#include <torch/torch.h>

namespace lorica {

TaskHeadsImpl::TaskHeadsImpl(int64_t feature_dim_, HeadInit init_) : feature_dim(feature_dim_), init(init_) {
    heads = register_module("heads", torch::nn::ModuleList());
}

int TaskHeadsImpl::add_head(int64_t classes, uint64_t seed, torch::Device device) {
    torch::nn::Linear head(feature_dim, classes);
    {
        torch::NoGradGuard no_grad;
        auto gen = at::detail::createCPUGenerator(seed);
        if (init == HeadInit::kaiming_uniform) {
            // kaiming_uniform_(w, nonlinearity='linear'): gain 1, std = 1/√fan_in, bound = √3 · std.
            const double bound = std::sqrt(3.0 / static_cast<double>(feature_dim));
            head->weight.copy_(torch::empty({classes, feature_dim}).uniform_(-bound, bound, gen));
        } else {
            head->weight.copy_(torch::randn({classes, feature_dim}, gen) * 0.02);
        }
        head->bias.zero_();
    }
    head->to(device);
    heads->push_back(head);
    return size() - 1;
}

torch::nn::Linear TaskHeadsImpl::head(int index) const {
    TORCH_CHECK(index >= 0 && index < static_cast<int>(heads->size()), "TaskHeads: no head ", index);
    return torch::nn::Linear(heads->ptr<torch::nn::LinearImpl>(index));
}

int64_t TaskHeadsImpl::classes(int index) const { return head(index)->options.out_features(); }

int64_t TaskHeadsImpl::offset(int index) const {
    int64_t total = 0;
    for (int i = 0; i < index; ++i) total += classes(i);
    return total;
}

torch::Tensor TaskHeadsImpl::logits_upto(const torch::Tensor& features, int last) {
    std::vector<torch::Tensor> parts;
    for (int i = 0; i <= last; ++i) parts.push_back(head(i)->forward(features));
    return parts.size() == 1 ? parts[0] : torch::cat(parts, 1);
}

torch::Tensor TaskHeadsImpl::logits_of(const torch::Tensor& features, int index) {
    return head(index)->forward(features);
}

std::vector<torch::Tensor> TaskHeadsImpl::parameters_of(const std::vector<int>& indices) {
    std::vector<torch::Tensor> out;
    for (int i : indices)
        for (auto& p : head(i)->parameters()) out.push_back(p);
    return out;
}

}  // namespace lorica
