#include "engine/model/lora_linear.h"
#include "engine/model/init.h"
#include "engine/model/dense_linear.h"
#include "engine/model/model_paths.h"

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

LoRALinearOptions LoRALinearOptions::conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size,
                                            int64_t stride, int64_t padding) {
    TORCH_CHECK(kernel_size > 0 && stride > 0 && padding >= 0, "LoRALinear conv: kernel ", kernel_size, ", stride ",
                stride, ", padding ", padding);
    return LoRALinearOptions(in_channels * kernel_size * kernel_size, out_channels)
        .bias(false)
        .kernel_size(kernel_size)
        .stride(stride)
        .padding(padding);
}

LoRALinearImpl::LoRALinearImpl(const LoRALinearOptions& options_) : options(options_) { reset(); }

void LoRALinearImpl::reset() {
    const int64_t out = options.out_features(), k = options.kernel_size();
    if (options.is_conv()) {
        TORCH_CHECK(options.in_features() % (k * k) == 0, "LoRALinear conv: in_features ", options.in_features(),
                    " is not channels·", k, "·", k);
        weight = register_parameter("weight", torch::empty({out, options.in_channels(), k, k}));
    } else {
        weight = register_parameter("weight", torch::empty({out, options.in_features()}));
    }
    if (options.bias()) bias = register_parameter("bias", torch::empty({out}));
    reset_parameters();
}

void LoRALinearImpl::reset_parameters() {
    torch::NoGradGuard no_grad;
    if (options.is_conv()) {
        // timm's ResNet init: kaiming normal, fan_out, ReLU gain: std = √(2 / (out·k·k)).
        const double fan_out =
            static_cast<double>(options.out_features() * options.kernel_size() * options.kernel_size());
        weight.normal_(0.0, std::sqrt(2.0 / fan_out));
    } else {
        // timm's ViT init: truncated normal (std 0.02) weights, zero bias.
        trunc_normal_(weight, 0.0, 0.02, -0.04, 0.04);
    }
    if (bias.defined()) bias.zero_();
}

LowRankTerm& LoRALinearImpl::add_term(LowRankTerm term) {
    TORCH_CHECK(term.dropout >= 0.0 && term.dropout < 1.0, "LoRALinear term: dropout ", term.dropout,
                " is outside [0, 1)");
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

std::vector<LoRALinearImpl::FrozenKey> LoRALinearImpl::frozen_keys() const {
    std::vector<FrozenKey> keys;
    for (const auto& t : terms_) {
        if (t.trainable_factors()) continue;
        keys.push_back({t.A.unsafeGetTensorImpl(), t.B.unsafeGetTensorImpl(),
                        t.magnitude.defined() ? t.magnitude.unsafeGetTensorImpl() : nullptr, t.A._version(),
                        t.B._version(), t.scale, t.row_offset});
    }
    return keys;
}

void LoRALinearImpl::rebuild_frozen_cache(std::vector<FrozenKey> keys) {
    // Normal tensors even when the first forward after a change runs under InferenceMode (evaluation):
    // the cache outlives it and training forwards use it with autograd on.
    c10::InferenceMode normal_tensors(false);
    torch::NoGradGuard no_grad;
    frozen_ = FrozenCache{};
    frozen_.keys = std::move(keys);
    frozen_.built_for = weight.options();
    for (const auto& t : terms_)
        if (!t.trainable_factors()) frozen_.held.insert(frozen_.held.end(), {t.A, t.B});
    const int64_t out = options.out_features(), in = options.in_features();
    auto padded = [&](const LowRankTerm& t, torch::Tensor m) {  // m [t.rows(), k] → [out, k]
        if (t.rows() == out) return m;
        return torch::constant_pad_nd(m, {0, 0, t.row_offset, out - t.row_offset - t.rows()});
    };
    std::vector<const LowRankTerm*> with_magnitude;
    for (const auto& t : terms_) {
        if (t.trainable_factors()) continue;
        if (!t.magnitude.defined()) {
            torch::Tensor d = padded(t, t.B.detach().matmul(t.A.detach()) * t.scale);
            frozen_.constant = frozen_.constant.defined() ? frozen_.constant + d : d;
            continue;
        }
        with_magnitude.push_back(&t);
    }
    if (with_magnitude.empty()) return;
    std::vector<int64_t> group_of;
    for (const LowRankTerm* t : with_magnitude) {
        int64_t g = 0;
        while (g < static_cast<int64_t>(frozen_.magnitudes.size()) && !frozen_.magnitudes[g].is_same(t->magnitude)) ++g;
        if (g == static_cast<int64_t>(frozen_.magnitudes.size())) frozen_.magnitudes.push_back(t->magnitude);
        group_of.push_back(g);
    }
    const int64_t groups = static_cast<int64_t>(frozen_.magnitudes.size());
    if (groups * out * in <= kMaxFrozenStackElements) {
        auto opts = weight.options().requires_grad(false);
        frozen_.stack = torch::zeros({groups, out * in}, opts);
        for (size_t i = 0; i < with_magnitude.size(); ++i) {
            const LowRankTerm& t = *with_magnitude[i];
            frozen_.stack[group_of[i]].add_(padded(t, t.B.detach().matmul(t.A.detach()) * t.scale).reshape({-1}));
        }
    } else {
        std::vector<torch::Tensor> bs, as, cols;
        for (size_t i = 0; i < with_magnitude.size(); ++i) {
            const LowRankTerm& t = *with_magnitude[i];
            bs.push_back(padded(t, t.B.detach() * t.scale));
            as.push_back(t.A.detach());
            cols.push_back(torch::full({t.rank()}, group_of[i],
                                       torch::TensorOptions().dtype(torch::kInt64).device(weight.device())));
        }
        frozen_.b_cat = torch::cat(bs, 1);
        frozen_.a_cat = torch::cat(as, 0);
        frozen_.column_group = torch::cat(cols);
    }
}

torch::Tensor LoRALinearImpl::frozen_delta() {
    std::vector<FrozenKey> keys = frozen_keys();
    if (keys.empty()) return {};
    if (keys != frozen_.keys || frozen_.built_for.device() != weight.device() ||
        frozen_.built_for.dtype() != weight.dtype())
        rebuild_frozen_cache(std::move(keys));
    torch::Tensor total = frozen_.constant;
    if (!frozen_.magnitudes.empty()) {
        torch::Tensor alpha = torch::stack(frozen_.magnitudes).reshape({-1});  // [G], differentiable
        torch::Tensor d;
        if (frozen_.stack.defined())
            d = alpha.unsqueeze(0).mm(frozen_.stack).view({options.out_features(), options.in_features()});
        else
            d = (frozen_.b_cat * alpha.index_select(0, frozen_.column_group)).mm(frozen_.a_cat);
        total = total.defined() ? total + d : d;
    }
    return total;
}

bool folds_trainable_terms(const LoRALinearImpl& layer) {
    const TermPath path = model_paths().terms;
    if (path != TermPath::automatic) return path == TermPath::folded;
    if (!torch::GradMode::is_enabled()) return true;
    bool weight_grad = layer.weight.requires_grad();  // W's gradient is computed anyway ...
    int64_t side_work = 0;
    for (const auto& t : layer.terms()) {
        if (t.trainable_factors())
            side_work += t.rank() * (layer.options.in_features() + t.rows());
        else if (t.magnitude.defined() && t.magnitude.requires_grad())
            weight_grad = true;  // ... or for the magnitudes
    }
    return weight_grad || layer.options.out_features() * layer.options.in_features() <= kFoldWork * side_work;
}

torch::Tensor LoRALinearImpl::forward(const torch::Tensor& x) {
    const int64_t out = options.out_features();
    const bool conv = options.is_conv();
    auto padded = [&](const LowRankTerm& t, const torch::Tensor& m, int64_t dim) {  // t's rows → all `out` rows
        if (t.rows() == out) return m;
        if (dim == 0) return torch::constant_pad_nd(m, {0, 0, t.row_offset, out - t.row_offset - t.rows()});
        if (conv)  // [N, rows, H', W'] → [N, out, H', W']
            return torch::constant_pad_nd(m, {0, 0, 0, 0, t.row_offset, out - t.row_offset - t.rows()});
        return torch::constant_pad_nd(m, {t.row_offset, out - t.row_offset - t.rows()});
    };
    torch::Tensor w = conv ? matrix() : weight;
    if (torch::Tensor d = frozen_delta(); d.defined()) w = w + d;
    const bool fold = folds_trainable_terms(*this);
    const bool training = is_training();
    // A trainable term folds when the rule says so and it does not drop out its input (header: Dropout).
    auto folded = [&](const LowRankTerm& t) { return fold && !t.drops_input(training); };
    bool factored_terms = false;
    for (const auto& t : terms_) {
        if (!t.trainable_factors()) continue;
        if (folded(t))
            w = w + padded(t, t.delta(), 0);  // [out, in], differentiable in A, B and the magnitude
        else
            factored_terms = true;
    }
    const int64_t stride = options.stride(), pad = options.padding();
    torch::Tensor y = conv ? torch::conv2d(x, w.view(weight.sizes()), bias, stride, pad)
                           : dense_linear(x, w, bias, DenseActivation::none, model_paths().dense);
    if (!factored_terms) return y;
    const int64_t channels = options.in_channels(), k = options.kernel_size();
    for (const auto& t : terms_) {
        if (!t.trainable_factors() || folded(t)) continue;
        torch::Tensor coef = t.magnitude.defined() ? t.magnitude * t.scale : torch::scalar_tensor(t.scale, x.options());
        // PEFT's lora_dropout: mask ⊙ x / (1 − p) from the global generator of x's device.
        const torch::Tensor xt = t.drops_input(training) ? torch::dropout(x, t.dropout, /*train*/ true) : x;
        torch::Tensor z;
        if (conv)  // PEFT's Conv2d LoRA: lora_B(lora_A(dropout(x))), [N, rows, H', W']
            z = torch::conv2d(torch::conv2d(xt, t.A.view({t.rank(), channels, k, k}), {}, stride, pad),
                              t.B.view({t.rows(), t.rank(), 1, 1})) *
                coef;
        else
            z = xt.matmul(t.A.t()).matmul(t.B.t()) * coef;  // [..., rows]
        y = y + padded(t, z, conv ? 1 : -1);
    }
    return y;
}

torch::Tensor LoRALinearImpl::merged_weight() const {
    torch::NoGradGuard no_grad;
    torch::Tensor d = dense_delta(/*frozen_only*/ false);
    return d.defined() ? (matrix() + d).view(weight.sizes()).detach() : weight.detach().clone();
}

void LoRALinearImpl::merge_terms() {
    torch::NoGradGuard no_grad;
    torch::Tensor d = dense_delta(/*frozen_only*/ false);
    if (d.defined()) weight.add_(d.view(weight.sizes()));
    terms_.clear();
}

}  // namespace lorica
