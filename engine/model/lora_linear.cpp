#include "engine/model/lora_linear.h"
#include "engine/model/init.h"

#include <cmath>

#include <torch/nn/functional/linear.h>
#include <torch/nn/init.h>
#include <torch/torch.h>

namespace lorica {

LowRankTerm LowRankTerm::lora(int64_t rank, int64_t in, int64_t rows, int64_t row_offset, double scale, std::string tag,
                              torch::Device device) {
    LowRankTerm t;
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    t.A = torch::empty({rank, in}, opts).uniform_(-bound, bound).requires_grad_(true);
    t.B = torch::zeros({rows, rank}, opts).requires_grad_(true);
    t.scale = scale;
    t.row_offset = row_offset;
    t.tag = std::move(tag);
    return t;
}

torch::Tensor LowRankTerm::delta() const {
    torch::Tensor d = B.matmul(A) * scale;
    if (magnitude.defined()) d = d * magnitude;
    return d;
}

LoRALinearImpl::LoRALinearImpl(const LoRALinearOptions& options_) : options(options_) { reset(); }

void LoRALinearImpl::reset() {
    weight = register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
    if (options.bias()) bias = register_parameter("bias", torch::empty({options.out_features()}));
    reset_parameters();
}

void LoRALinearImpl::reset_parameters() {
    torch::NoGradGuard no_grad;
    // timm's ViT init: truncated normal (std 0.02) weights, zero bias.
    trunc_normal_(weight, 0.0, 0.02, -0.04, 0.04);
    if (bias.defined()) bias.zero_();
}

LowRankTerm& LoRALinearImpl::add_term(LowRankTerm term) {
    TORCH_CHECK(term.A.dim() == 2 && term.B.dim() == 2, "LoRALinear term: A and B must be matrices");
    TORCH_CHECK(term.A.size(1) == options.in_features(), "LoRALinear term: A is [", term.A.size(0), ", ",
                term.A.size(1), "] but the layer's input width is ", options.in_features());
    TORCH_CHECK(term.B.size(1) == term.A.size(0), "LoRALinear term: B [", term.B.size(0), ", ", term.B.size(1),
                "] does not match A's rank ", term.A.size(0));
    TORCH_CHECK(term.row_offset >= 0 && term.row_offset + term.B.size(0) <= options.out_features(),
                "LoRALinear term: rows [", term.row_offset, ", ", term.row_offset + term.B.size(0),
                ") exceed the layer's output width ", options.out_features());
    terms_.push_back(std::move(term));
    return terms_.back();
}

void LoRALinearImpl::remove_terms(const std::string& tag) {
    std::erase_if(terms_, [&](const LowRankTerm& t) { return t.tag == tag; });
}

torch::Tensor LoRALinearImpl::dense_delta(bool frozen_only) const {
    torch::Tensor total;
    for (const auto& t : terms_) {
        if (frozen_only && t.trainable_factors()) continue;
        torch::Tensor d = t.delta();  // [rows, in]
        if (t.rows() != options.out_features())
            d = torch::constant_pad_nd(d, {0, 0, t.row_offset, options.out_features() - t.row_offset - t.rows()});
        total = total.defined() ? total + d : d;
    }
    return total;
}

torch::Tensor LoRALinearImpl::forward(const torch::Tensor& x) {
    torch::Tensor w = weight;
    if (torch::Tensor d = dense_delta(/*frozen_only*/ true); d.defined()) w = w + d;
    torch::Tensor y = torch::nn::functional::linear(x, w, bias);
    for (const auto& t : terms_) {
        if (!t.trainable_factors()) continue;
        torch::Tensor coef = t.magnitude.defined() ? t.magnitude * t.scale : torch::scalar_tensor(t.scale, x.options());
        torch::Tensor z = x.matmul(t.A.t()).matmul(t.B.t()) * coef;  // [..., rows]
        if (t.rows() != options.out_features())
            z = torch::constant_pad_nd(z, {t.row_offset, options.out_features() - t.row_offset - t.rows()});
        y = y + z;
    }
    return y;
}

torch::Tensor LoRALinearImpl::merged_weight() const {
    torch::NoGradGuard no_grad;
    torch::Tensor d = dense_delta(/*frozen_only*/ false);
    return d.defined() ? (weight + d).detach() : weight.detach().clone();
}

void LoRALinearImpl::merge_terms() {
    torch::NoGradGuard no_grad;
    torch::Tensor d = dense_delta(/*frozen_only*/ false);
    if (d.defined()) weight.add_(d);
    terms_.clear();
}

}  // namespace lorica
