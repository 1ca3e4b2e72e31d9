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
const std::optional<c10::TypedOperatorHandle<LinearPointwise>>& dense_onednn_linear_op() {
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
at::Tensor dense_onednn_2d(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                           std::string_view attr) {
    std::optional<at::Tensor> b;
    if (bias.defined()) b = bias.contiguous();
    std::optional<std::string_view> algorithm;
    if (attr == "gelu") algorithm = "none";  // exact (erf) GELU, not the tanh approximation
    return dense_onednn_linear_op()->call(x.contiguous(), weight.contiguous(), b, attr,
                                          c10::List<std::optional<at::Scalar>>(), algorithm);
}

// Bits of the custom function's `kernels` argument: which products oneDNN runs.
constexpr int64_t kDenseForwardOneDnn = 1, kDenseGradInputOneDnn = 2, kDenseGradWeightOneDnn = 4;

// y = x Wᵀ + b with the forward, grad_x = g W and grad_W = gᵀ x each on its chosen library; grad_b = Σ g.
struct ChosenLinearFunction : public torch::autograd::Function<ChosenLinearFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                                 const torch::Tensor& weight, const torch::Tensor& bias, int64_t kernels) {
        ctx->save_for_backward({x, weight});
        ctx->saved_data["has_bias"] = bias.defined();
        ctx->saved_data["kernels"] = kernels;
        const int64_t in = weight.size(1), out = weight.size(0);
        std::vector<int64_t> shape = x.sizes().vec();
        shape.back() = out;
        const GemmKernel k = kernels & kDenseForwardOneDnn ? GemmKernel::onednn : GemmKernel::aten;
        return dense_product(ProductRole::forward, k, x.reshape({-1, in}), weight, bias).view(shape);
    }
    static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::tensor_list grads) {
        const auto saved = ctx->get_saved_variables();
        const torch::Tensor& x = saved[0];
        const torch::Tensor& weight = saved[1];
        const int64_t kernels = ctx->saved_data["kernels"].toInt();
        const int64_t in = weight.size(1), out = weight.size(0);
        const torch::Tensor g = grads[0].reshape({-1, out}).contiguous();  // [rows, out]
        torch::Tensor grad_x, grad_w, grad_b;
        if (ctx->needs_input_grad(0)) {
            const GemmKernel k = kernels & kDenseGradInputOneDnn ? GemmKernel::onednn : GemmKernel::aten;
            grad_x = dense_product(ProductRole::grad_input, k, g, weight).view(x.sizes());
        }
        if (ctx->needs_input_grad(1)) {
            const GemmKernel k = kernels & kDenseGradWeightOneDnn ? GemmKernel::onednn : GemmKernel::aten;
            grad_w = dense_product(ProductRole::grad_weight, k, g, x.reshape({-1, in}));
        }
        if (ctx->needs_input_grad(2) && ctx->saved_data["has_bias"].toBool()) grad_b = g.sum(0);
        return {grad_x, grad_w, grad_b, torch::Tensor()};
    }
};

GemmKernel dense_kernel_of(DenseBackend backend, const ProductShape& shape, const std::vector<ProductShape>& also) {
    if (backend == DenseBackend::aten) return GemmKernel::aten;
    if (backend == DenseBackend::onednn) return fallback_kernel(shape.role);
    return chosen_kernel(shape, also);
}

}  // namespace

bool onednn_linear_available() { return dense_onednn_linear_op().has_value(); }

bool dense_linear_onednn_eligible(const torch::Tensor& x, const torch::Tensor& weight) {
    return x.device().is_cpu() && weight.device().is_cpu() && x.scalar_type() == torch::kFloat32 &&
           weight.scalar_type() == torch::kFloat32 && x.dim() >= 2 && x.size(-1) > 0 && x.numel() > 0 &&
           weight.dim() == 2 && !at::autocast::is_autocast_enabled(at::kCPU) && onednn_linear_available();
}

GemmKernel dense_linear_kernel(const torch::Tensor& x, const torch::Tensor& weight, DenseBackend backend,
                               ProductRole role) {
    if (backend == DenseBackend::aten || !dense_linear_onednn_eligible(x, weight)) return GemmKernel::aten;
    return dense_kernel_of(backend, {role, x.numel() / x.size(-1), weight.size(1), weight.size(0)}, {});
}

torch::Tensor dense_product(ProductRole role, GemmKernel kernel, const torch::Tensor& lhs, const torch::Tensor& rhs,
                            const torch::Tensor& bias) {
    const bool onednn = kernel == GemmKernel::onednn;
    switch (role) {
        case ProductRole::forward:
        case ProductRole::forward_gelu: {
            const bool gelu = role == ProductRole::forward_gelu;
            if (onednn) return dense_onednn_2d(lhs, rhs, bias, gelu ? "gelu" : "none");
            torch::Tensor y = torch::nn::functional::linear(lhs, rhs, bias);
            return gelu ? torch::gelu(y) : y;
        }
        case ProductRole::grad_input:  // g W = g · (Wᵀ)ᵀ: oneDNN with the transposed weight [in, out] as its "weight"
            return onednn ? dense_onednn_2d(lhs, rhs.t().contiguous(), {}, "none") : lhs.mm(rhs);
        case ProductRole::grad_weight:  // gᵀ x = gᵀ · (xᵀ)ᵀ
            return onednn ? dense_onednn_2d(lhs.t().contiguous(), rhs.t().contiguous(), {}, "none") : lhs.t().mm(rhs);
    }
    TORCH_CHECK(false, "dense_product: unknown role");
}

torch::Tensor dense_linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                           DenseActivation activation, DenseBackend backend) {
    const bool gelu = activation == DenseActivation::gelu;
    auto aten_linear = [&] {
        torch::Tensor y = torch::nn::functional::linear(x, weight, bias);
        return gelu ? torch::gelu(y) : y;
    };
    if (backend == DenseBackend::aten || !dense_linear_onednn_eligible(x, weight) ||
        (bias.defined() && bias.scalar_type() != torch::kFloat32))
        return aten_linear();
    const int64_t rows = x.numel() / x.size(-1), in = weight.size(1), out = weight.size(0);
    const bool needs_grad = torch::GradMode::is_enabled() &&
                            (x.requires_grad() || weight.requires_grad() || (bias.defined() && bias.requires_grad()));
    if (!needs_grad) {
        const ProductRole role = gelu ? ProductRole::forward_gelu : ProductRole::forward;
        if (dense_kernel_of(backend, {role, rows, in, out}, {}) == GemmKernel::aten) return aten_linear();
        std::vector<int64_t> shape = x.sizes().vec();
        shape.back() = out;
        return dense_product(role, GemmKernel::onednn, x.reshape({-1, in}), weight, bias).view(shape);
    }
    const ProductShape grad_input{ProductRole::grad_input, rows, in, out};
    const ProductShape grad_weight{ProductRole::grad_weight, rows, in, out};
    std::vector<ProductShape> backward;
    if (x.requires_grad()) backward.push_back(grad_input);
    if (weight.requires_grad()) backward.push_back(grad_weight);
    int64_t kernels = 0;
    if (dense_kernel_of(backend, {ProductRole::forward, rows, in, out}, backward) == GemmKernel::onednn)
        kernels |= kDenseForwardOneDnn;
    if (x.requires_grad() && dense_kernel_of(backend, grad_input, {}) == GemmKernel::onednn)
        kernels |= kDenseGradInputOneDnn;
    if (weight.requires_grad() && dense_kernel_of(backend, grad_weight, {}) == GemmKernel::onednn)
        kernels |= kDenseGradWeightOneDnn;
    if (kernels == 0) return aten_linear();  // ATen for every product: ATen's own autograd
    torch::Tensor y = ChosenLinearFunction::apply(x, weight, bias, kernels);
    return gelu ? torch::gelu(y) : y;
}

}  // namespace lorica
