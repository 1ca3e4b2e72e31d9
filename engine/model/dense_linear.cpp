#include "engine/model/dense_linear.h"

#include <optional>
#include <string_view>

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/autograd.h>
#include <torch/torch.h>

namespace lorica {
namespace {

using LinearPointwise = at::Tensor(const at::Tensor&, const at::Tensor&, const std::optional<at::Tensor>&,
                                   std::string_view, c10::List<std::optional<at::Scalar>>,
                                   std::optional<std::string_view>);

// LibTorch's oneDNN linear (registered for CPU tensors when LibTorch is built with oneDNN), or none.
const std::optional<c10::TypedOperatorHandle<LinearPointwise>>& onednn_linear_op() {
    static const std::optional<c10::TypedOperatorHandle<LinearPointwise>> op =
        []() -> std::optional<c10::TypedOperatorHandle<LinearPointwise>> {
        if (!at::hasMKLDNN()) return std::nullopt;
        auto handle = c10::Dispatcher::singleton().findSchema({"mkldnn::_linear_pointwise", ""});
        if (!handle || !handle->hasKernelForDispatchKey(c10::DispatchKey::CPU)) return std::nullopt;
        return handle->typed<LinearPointwise>();
    }();
    return op;
}

// x [rows, in] (contiguous) · weight [out, in]ᵀ (+ bias) through oneDNN, with `attr` ("none" or "gelu") fused.
at::Tensor onednn_linear_2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            std::string_view attr) {
    std::optional<at::Tensor> b;
    if (bias.defined()) b = bias.contiguous();
    std::optional<std::string_view> algorithm;
    if (attr == "gelu") algorithm = "none";  // exact (erf) GELU, not the tanh approximation
    return onednn_linear_op()->call(x, weight.contiguous(), b, attr, c10::List<std::optional<at::Scalar>>(), algorithm);
}

at::Tensor onednn_linear_nd(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            std::string_view attr) {
    std::vector<int64_t> shape = x.sizes().vec();
    shape.back() = weight.size(0);
    return onednn_linear_2d(x.reshape({-1, x.size(-1)}).contiguous(), weight, bias, attr).view(shape);
}

// y = x Wᵀ + b with oneDNN forward and grad_x; grad_W = gᵀ x, grad_b = Σ g (ATen).
struct OneDnnLinearFunction : public torch::autograd::Function<OneDnnLinearFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& weight, const torch::Tensor& bias) {
        ctx->save_for_backward({x, weight});
        ctx->saved_data["has_bias"] = bias.defined();
        return onednn_linear_nd(x, weight, bias, "none");
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];
        const torch::Tensor& weight = saved[1];
        const int64_t in = weight.size(1), out = weight.size(0);
        const torch::Tensor g = grads[0].reshape({-1, out}).contiguous();  // [rows, out]
        torch::Tensor grad_x, grad_w, grad_b;
        if (ctx->needs_input_grad(0)) {
            // g W = g · (Wᵀ)ᵀ: oneDNN with the transposed weight [in, out] as its "weight".
            grad_x = onednn_linear_2d(g, weight.t().contiguous(), {}, "none").view(x.sizes());
        }
        if (ctx->needs_input_grad(1)) grad_w = g.t().mm(x.reshape({-1, in}));
        if (ctx->needs_input_grad(2) && ctx->saved_data["has_bias"].toBool()) grad_b = g.sum(0);
        return {grad_x, grad_w, grad_b};
    }
};

}  // namespace

bool dense_linear_uses_onednn(const torch::Tensor& x, const torch::Tensor& weight, DenseBackend backend) {
    return backend == DenseBackend::automatic && x.device().is_cpu() && weight.device().is_cpu() &&
           x.scalar_type() == torch::kFloat32 && weight.scalar_type() == torch::kFloat32 && x.dim() >= 2 &&
           x.size(-1) > 0 && !at::autocast::is_autocast_enabled(at::kCPU) && onednn_linear_op().has_value();
}

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                           DenseActivation activation, DenseBackend backend) {
    if (!dense_linear_uses_onednn(x, weight, backend) || (bias.defined() && bias.scalar_type() != torch::kFloat32)) {
        torch::Tensor y = torch::nn::functional::linear(x, weight, bias);
        return activation == DenseActivation::gelu ? torch::gelu(y) : y;
    }
    const bool needs_grad = torch::GradMode::is_enabled() &&
                            (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
    if (!needs_grad) return onednn_linear_nd(x, weight, bias, activation == DenseActivation::gelu ? "gelu" : "none");
    torch::Tensor y = OneDnnLinearFunction::apply(x, weight, bias);
    return activation == DenseActivation::gelu ? torch::gelu(y) : y;
}

}  // namespace lorica
