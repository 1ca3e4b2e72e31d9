#include "engine/train/flat_adamw.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>
#include <unordered_set>

#include <torch/torch.h>

namespace lorica {
namespace {

const torch::optim::AdamWOptions& adamw_options(const torch::optim::OptimizerParamGroup& group, size_t index) {
    const auto* options = dynamic_cast<const torch::optim::AdamWOptions*>(&group.options());
    if (!options) throw std::invalid_argument("FlatAdamW: parameter group " + std::to_string(index) + " has no AdamWOptions");
    return *options;
}

}  // namespace

FlatAdamW::FlatAdamW(const std::vector<torch::optim::OptimizerParamGroup>& groups, torch::optim::AdamWOptions defaults)
    : Optimizer(groups, std::make_unique<torch::optim::AdamWOptions>(defaults)) {
    torch::NoGradGuard no_grad;
    std::unordered_set<const void*> seen;
    for (size_t g = 0; g < param_groups_.size(); ++g) {
        const auto& options = adamw_options(param_groups_[g], g);
        if (options.amsgrad()) throw std::invalid_argument("FlatAdamW: amsgrad is not supported");
        std::vector<torch::Tensor>& params = param_groups_[g].params();
        FlatGroup flat;
        int64_t total = 0;
        for (size_t i = 0; i < params.size(); ++i) {
            const torch::Tensor& p = params[i];
            const std::string where = "FlatAdamW: group " + std::to_string(g) + ", parameter " + std::to_string(i);
            if (!p.defined()) throw std::invalid_argument(where + " is undefined");
            if (!p.is_floating_point() || p.is_sparse()) throw std::invalid_argument(where + " is not a dense floating-point tensor");
            if (p.scalar_type() != params.front().scalar_type() || p.device() != params.front().device())
                throw std::invalid_argument(where + " differs in dtype or device from the group's first parameter");
            if (!seen.insert(p.unsafeGetTensorImpl()).second) throw std::invalid_argument(where + " is in the optimizer twice");
            flat.offsets.push_back(total);
            flat.numels.push_back(p.numel());
            total += p.numel();
        }
        const auto options_of = params.empty() ? torch::TensorOptions(torch::kFloat32)
                                               : torch::TensorOptions().dtype(params.front().scalar_type()).device(params.front().device());
        flat.params = torch::empty({total}, options_of);
        flat.grads = torch::empty({total}, options_of);
        flat.exp_avg = torch::zeros({total}, options_of);
        flat.exp_avg_sq = torch::zeros({total}, options_of);
        flat.steps.assign(params.size(), 0);
        for (size_t i = 0; i < params.size(); ++i) {
            torch::Tensor slice = flat.params.narrow(0, flat.offsets[i], flat.numels[i]);
            slice.copy_(params[i].detach().reshape({-1}));
            params[i].set_data(slice.view(params[i].sizes()));
            flat.data.push_back(params[i].unsafeGetTensorImpl()->data());
        }
        flat_.push_back(std::move(flat));
    }
}

FlatAdamW::~FlatAdamW() {
    try {
        torch::NoGradGuard no_grad;
        for (size_t g = 0; g < flat_.size() && g < param_groups_.size(); ++g) {
            std::vector<torch::Tensor>& params = param_groups_[g].params();
            for (size_t i = 0; i < params.size() && i < flat_[g].data.size(); ++i)
                if (params[i].unsafeGetTensorImpl()->data() == flat_[g].data[i]) params[i].set_data(params[i].detach().clone());
        }
    } catch (...) {
        // Parameters keep aliasing the buffers, which stay alive through their storage: still correct.
    }
}

torch::Tensor FlatAdamW::step(LossClosure closure) {
    torch::Tensor loss;
    if (closure) {
        at::AutoGradMode enable_grad(true);
        loss = closure();
    }
    torch::NoGradGuard no_grad;
    if (flat_.size() != param_groups_.size())
        throw std::logic_error("FlatAdamW: parameter groups were added after construction");
    for (size_t g = 0; g < param_groups_.size(); ++g) {
        const auto& options = adamw_options(param_groups_[g], g);
        const std::vector<torch::Tensor>& params = param_groups_[g].params();
        FlatGroup& flat = flat_[g];
        bool uniform = true;  // every parameter has a dense gradient of its dtype, and all share one step count
        for (size_t i = 0; i < params.size(); ++i) {
            if (params[i].unsafeGetTensorImpl()->data() != flat.data[i])
                throw std::logic_error("FlatAdamW: parameter " + std::to_string(i) + " of group " + std::to_string(g) +
                                       " no longer aliases the optimizer's buffer (its data was replaced)");
            const torch::Tensor& grad = params[i].grad();
            if (!grad.defined() || grad.is_sparse() || grad.scalar_type() != params[i].scalar_type() ||
                grad.device() != params[i].device() || flat.steps[i] != flat.steps.front())
                uniform = false;
        }
        if (params.empty()) continue;
        if (uniform) step_flat(flat, options, params);
        else step_each(flat, options, params);
    }
    return loss;
}

void FlatAdamW::step_flat(FlatGroup& flat, const torch::optim::AdamWOptions& options, const std::vector<torch::Tensor>& params) {
    // Gather the gradients: one memcpy each on the CPU, one cat elsewhere.
    const bool host_copy = flat.grads.is_cpu() && std::all_of(params.begin(), params.end(), [](const torch::Tensor& p) {
        return p.grad().is_contiguous();
    });
    if (host_copy) {
        auto* dst = static_cast<char*>(flat.grads.data_ptr());
        const size_t element = flat.grads.element_size();
        for (size_t i = 0; i < params.size(); ++i)
            if (flat.numels[i] > 0)
                std::memcpy(dst + flat.offsets[i] * element, params[i].grad().const_data_ptr(), flat.numels[i] * element);
    } else {
        std::vector<torch::Tensor> grads;
        grads.reserve(params.size());
        for (const auto& p : params) grads.push_back(p.grad().reshape({-1}));
        at::cat_out(flat.grads, grads, 0);
    }

    // torch::optim::AdamW::step, on the whole group at once.
    if (options.weight_decay() != 0) flat.params.mul_(1 - options.lr() * options.weight_decay());
    for (auto& s : flat.steps) ++s;
    const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
    const double bias_correction1 = 1 - std::pow(beta1, flat.steps.front());
    const double bias_correction2 = 1 - std::pow(beta2, flat.steps.front());
    flat.exp_avg.mul_(beta1).add_(flat.grads, 1 - beta1);
    flat.exp_avg_sq.mul_(beta2).addcmul_(flat.grads, flat.grads, 1 - beta2);
    torch::Tensor denom = (flat.exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(options.eps());
    const double step_size = options.lr() / bias_correction1;
    flat.params.addcdiv_(flat.exp_avg, denom, -step_size);
    for (const auto& p : params) p.unsafeGetTensorImpl()->bump_version();
}

void FlatAdamW::step_each(FlatGroup& flat, const torch::optim::AdamWOptions& options, const std::vector<torch::Tensor>& params) {
    const double beta1 = std::get<0>(options.betas()), beta2 = std::get<1>(options.betas());
    for (size_t i = 0; i < params.size(); ++i) {
        const torch::Tensor& grad_of = params[i].grad();
        if (!grad_of.defined()) continue;
        TORCH_CHECK(!grad_of.is_sparse(), "AdamW does not support sparse gradients");
        torch::Tensor grad = grad_of.reshape({-1});
        torch::Tensor p = flat.params.narrow(0, flat.offsets[i], flat.numels[i]);
        torch::Tensor exp_avg = flat.exp_avg.narrow(0, flat.offsets[i], flat.numels[i]);
        torch::Tensor exp_avg_sq = flat.exp_avg_sq.narrow(0, flat.offsets[i], flat.numels[i]);
        if (options.weight_decay() != 0) p.mul_(1 - options.lr() * options.weight_decay());
        const int64_t step = ++flat.steps[i];
        const double bias_correction1 = 1 - std::pow(beta1, step);
        const double bias_correction2 = 1 - std::pow(beta2, step);
        exp_avg.mul_(beta1).add_(grad, 1 - beta1);
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, 1 - beta2);
        torch::Tensor denom = (exp_avg_sq.sqrt() / std::sqrt(bias_correction2)).add_(options.eps());
        const double step_size = options.lr() / bias_correction1;
        p.addcdiv_(exp_avg, denom, -step_size);
        params[i].unsafeGetTensorImpl()->bump_version();
    }
}

void FlatAdamW::save(torch::serialize::OutputArchive&) const {
    throw std::logic_error("FlatAdamW: the optimizer state is not serialisable (a fresh optimizer trains each task and pass)");
}

void FlatAdamW::load(torch::serialize::InputArchive&) {
    throw std::logic_error("FlatAdamW: the optimizer state is not serialisable (a fresh optimizer trains each task and pass)");
}

}  // namespace lorica
