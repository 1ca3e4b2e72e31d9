#pragma once
// LoRALinear: a linear layer `y = x Wᵀ + b` that carries any number of low-rank update terms — or,
// in conv mode, a 2-D convolution `y = conv2d(x, W, b, stride, padding)` carrying the same terms.
//
// Conv mode (LoRALinearOptions::conv2d). `weight` keeps timm's shape [out, C, k, k] (so weights load
// by name) while every term and every piece of 2-D arithmetic treats it as the matrix
// matrix() = weight.view([out, in]) with in = C·k·k, the kernel flattened as (C, kh, kw). A term's
// A [r, in] is PEFT's Conv2d LoRA `lora_A` weight [r, C, k, k] flattened (a k×k conv C → r with the
// layer's stride and padding) and B [rows, r] is `lora_B` [rows, r, 1, 1] (a 1×1 conv r → rows), so
// ΔW = s·m·B A reshaped to [rows, C, k, k] is exactly the PEFT merge, and the factored path is PEFT's
// forward conv(conv(x, A), B)·s·m. 1×1 convs (in = C) and k×k convs work alike.
//
// Every adapter method in Lorica is expressed with these terms. A term k adds to the output rows
// [row_offset, row_offset + rows) the update
//
//     ΔW_k = scale_k · m_k · B_k A_k        A_k [r, in], B_k [rows, r], m_k a 0-dim tensor or 1
//
// - sequential LoRA: one term, A and B trainable, scale = alpha / r, no magnitude.
// - SD-LoRA: old terms frozen with scale = 1/‖B_k A_k‖_F and a learnable magnitude α_k that is the
//   *same tensor* in every layer (shared magnitudes); the current term trains A_t, B_t and α_t.
// - LoRI: A frozen (random), B trainable, gradient masked by the method.
// - merged incremental LoRA: the term is folded into W with `merge_terms()` at the end of a task.
// - q/v of a fused qkv [3·dim, dim]: one term with row_offset 0 (q) or 2·dim (v), rows = dim.
//
// Forward cost. Terms whose A and B are both frozen are folded into the dense weight, so a training
// step does not grow with the number of past tasks; terms with a trainable factor are either folded
// too (W + s·m·B A every forward, autograd through it) or take the factored path `((x Aᵀ) Bᵀ)`
// (2·N·r·(in + rows) flops), whichever is cheaper (engine/model/model_paths.h); the dense product is
// dense_linear (oneDNN on the CPU, dense_linear.h). The frozen terms are cached per layer (rebuilt only
// when a frozen term is added, removed, changes its factors, scale or row offset, or a factor
// becomes frozen): terms without a magnitude as one constant [out, in] delta; terms with magnitudes
// grouped by magnitude tensor (SD-LoRA's q and v terms of one task share α_k) into a stack
// S [G, out, in] of their scaled, padded B A, so each forward adds `(α [G] · S).view(out, in)`: one
// small contraction, differentiable in the magnitudes, whatever the number of terms. The stack costs
// G·out·in floats per layer; above `kMaxFrozenStackElements` the layer keeps the factored form
// instead (B_cat [out, R] with magnitude-scaled columns times A_cat [R, in], R = Σ r_k).
// Conv mode follows the same rule with in = C·k·k per output position: the fold is one conv2d with
// W + ΔW, the factored path conv2d(x, W) plus conv2d(conv2d(x, A), B) per term (the tiny ResNet's
// 3×3 convs fold at rank 8; resnet50's 1×1 conv3 sites at rank 8 fold in layer1 and keep the side
// branches from layer2 on).
// In eval mode with no trainable term inference therefore costs one linear layer plus that fold;
// merge_terms() removes even that.
//
// Dropout (LowRankTerm::dropout = p, PEFT's `lora_dropout`). In training mode (is_training()) a term
// with a trainable factor and p > 0 sees its own dropped-out copy of the input, as PEFT's LoRA layer:
//
//     y = W x + b + Σ_k s_k · m_k · B_k A_k dropout_k(x),   dropout(x) = mask ⊙ x / (1 − p),
//
// mask ~ Bernoulli(1 − p) per input element, drawn for every forward and every such term from the
// default generator of x's device (at::dropout: the global generator that training seeds and a resume
// restores). Such a term cannot be folded into W: it always takes the factored path
// (dropout(x) Aᵀ) Bᵀ, conv mode conv(conv(dropout(x), A), B), which costs the side branch's flops plus
// one mask of x's size per term, whatever the fold rule would choose. In eval mode dropout is the
// identity, and frozen terms never drop (they are part of the fixed weight), so the frozen-term cache
// and inference cost are unchanged; p = 0 is exactly the layer without dropout.
//
// Example:
//   LoRALinear qkv(LoRALinearOptions(64, 192));
//   qkv->add_term(LowRankTerm::lora(/*rank*/ 8, /*in*/ 64, /*rows*/ 64, /*row_offset*/ 128, /*scale*/ 1.0));

#include <cstdint>
#include <string>
#include <vector>

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

namespace lorica {

struct LoRALinearOptions {
    LoRALinearOptions(int64_t in_features, int64_t out_features)
        : in_features_(in_features), out_features_(out_features) {}
    // A square k×k convolution in_channels → out_channels (no bias, as timm's ResNet convs):
    // in_features = in_channels·k·k.
    static LoRALinearOptions conv2d(int64_t in_channels, int64_t out_channels, int64_t kernel_size, int64_t stride = 1,
                                    int64_t padding = 0);
    bool is_conv() const { return kernel_size_ > 0; }
    // Conv mode: input channels C = in / k²; a linear layer: in.
    int64_t in_channels() const { return is_conv() ? in_features_ / (kernel_size_ * kernel_size_) : in_features_; }

    TORCH_ARG(int64_t, in_features);      // input width `in` (conv mode: C·k·k, the kernel's fan-in)
    TORCH_ARG(int64_t, out_features);     // output width `out` (conv mode: output channels)
    TORCH_ARG(bool, bias) = true;         // learnable bias [out]
    TORCH_ARG(int64_t, kernel_size) = 0;  // conv mode: k of a k×k kernel; 0 = a linear layer
    TORCH_ARG(int64_t, stride) = 1;       // conv mode: stride (both axes)
    TORCH_ARG(int64_t, padding) = 0;      // conv mode: zero padding (both axes)
};

// One low-rank update term. Tensors are shared handles: the same magnitude tensor can sit in many
// layers' terms.
struct LowRankTerm {
    torch::Tensor A;          // [r, in]
    torch::Tensor B;          // [rows, r]
    double scale = 1.0;       // constant factor (alpha / r, or a direction's 1/‖B A‖_F)
    torch::Tensor magnitude;  // 0-dim learnable factor, or undefined (= 1)
    int64_t row_offset = 0;   // first output row the update writes
    std::string tag;          // who owns it inside its method, e.g. "sd-lora-task3" or "lori" (for remove_terms)
    int task = -1;            // the stream task that created the term; -1 = not one task's (sequential
                              // LoRA's single pair, LoRI's continued adapter, a merge of several tasks)
    double dropout = 0.0;     // p in [0, 1): dropout on the term's input in training mode when a factor
                              // trains (see "Dropout" above); 0 = none

    int64_t rank() const { return A.size(0); }
    int64_t rows() const { return B.size(0); }
    bool trainable_factors() const { return A.requires_grad() || B.requires_grad(); }
    // Whether a forward in training mode (`training`) drops out this term's input.
    bool drops_input(bool training) const { return training && dropout > 0.0 && trainable_factors(); }

    // A new LoRA pair with PEFT's default init: A ~ U(-1/√in, 1/√in) (kaiming-uniform, a = √5), B = 0.
    // The factors are created on `device`, in float32, with requires_grad set.
    static LowRankTerm lora(int64_t rank, int64_t in, int64_t rows, int64_t row_offset, double scale,
                            std::string tag = "", torch::Device device = torch::kCPU);

    // ΔW of this term as a dense [rows, in] matrix (differentiable).
    torch::Tensor delta() const;
};

class LoRALinearImpl : public torch::nn::Module {
public:
    explicit LoRALinearImpl(const LoRALinearOptions& options);

    void reset();
    void reset_parameters();

    // Linear: x [..., in] → [..., out].  Conv mode: x [N, C, H, W] → [N, out, H', W'] with
    // H' = (H + 2·padding − k) / stride + 1 (same for W').
    torch::Tensor forward(const torch::Tensor& x);

    // The weight as the matrix [out, in] every term works on: `weight` itself for a linear layer, a
    // view of the kernel [out, C, k, k] in conv mode (in-place edits of the view change the kernel).
    torch::Tensor matrix() const { return weight.view({options.out_features(), options.in_features()}); }

    // Terms: added by adapter methods, never registered as module parameters (methods own them and
    // hand them to the optimizer), so the module's state dict is exactly timm's weight and bias.
    LowRankTerm& add_term(LowRankTerm term);
    std::vector<LowRankTerm>& terms() { return terms_; }
    const std::vector<LowRankTerm>& terms() const { return terms_; }
    void remove_terms(const std::string& tag);  // every term with this tag
    void clear_terms() { terms_.clear(); }

    // W + Σ ΔW_k in weight's shape ([out, in]; conv mode [out, C, k, k]), detached.
    torch::Tensor merged_weight() const;
    // W ← W + Σ ΔW_k (no gradient), then drops every term: the layer becomes a plain linear layer.
    void merge_terms();

    LoRALinearOptions options;
    torch::Tensor weight;  // [out, in]; conv mode [out, C, k, k] (timm's kernel; matrix() is [out, in])
    torch::Tensor bias;    // [out] or undefined

    // Largest magnitude stack (G·out·in elements) a layer caches before it switches to the factored form.
    static constexpr int64_t kMaxFrozenStackElements = int64_t{16} << 20;

private:
    torch::Tensor dense_delta(bool frozen_only) const;  // Σ ΔW_k of the selected terms, [out, in]
    torch::Tensor frozen_delta();                       // Σ ΔW_k of the frozen terms (cached fold), [out, in]

    // Identity of one frozen term, to detect when the cache is stale.
    struct FrozenKey {
        const void* a = nullptr;
        const void* b = nullptr;
        const void* magnitude = nullptr;
        int64_t a_version = 0, b_version = 0;
        double scale = 0.0;
        int64_t row_offset = 0;
        bool operator==(const FrozenKey&) const = default;
    };
    struct FrozenCache {
        std::vector<FrozenKey> keys;
        torch::Tensor constant;                 // [out, in] Σ of the terms without magnitude, or undefined
        std::vector<torch::Tensor> magnitudes;  // G distinct 0-dim magnitude tensors
        torch::Tensor stack;                    // [G, out·in] scaled, padded B A summed per magnitude (dense form)
        torch::Tensor b_cat, a_cat;             // [out, R], [R, in] (factored form, when the stack is too big)
        torch::Tensor column_group;             // [R] int64: magnitude index of each rank column
        std::vector<torch::Tensor> held;        // the cached factors, kept alive so their addresses stay unique
        torch::TensorOptions built_for;         // weight's device and dtype when built
    };
    std::vector<FrozenKey> frozen_keys() const;
    void rebuild_frozen_cache(std::vector<FrozenKey> keys);

    std::vector<LowRankTerm> terms_;
    FrozenCache frozen_;
};

TORCH_MODULE(LoRALinear);

}  // namespace lorica
