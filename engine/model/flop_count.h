#pragma once
// Inference FLOPs of one image's forward pass, counted from the model's shapes (SD-LoRA's Table 5,
// "inference GFLOPs"). A multiply-add counts 2 FLOPs, so GFLOPs = 2 · GMACs (ViT-B/16 at 224 px:
// 17.56 GMACs = 35.1 GFLOPs with a 1,000-class head, the number Table 5 lists).
//
// Counted: every dense product (linear layers, convolutions as [out, C·k·k] matrices applied at each
// output position, the attention's two batched products) and the classifier heads. Not counted
// (as fvcore and the published tables): biases, normalisations, activations, softmax, pooling,
// residual additions and position embeddings — for ViT-B/16 about 0.1% of the total (25 LayerNorms
// over 197 × 768 values, 12 softmaxes over 12 × 197² scores, 12 GELUs over 197 × 3072).
//
// ViT (vit.h), T = tokens + 1 (the class token), d = dim, per image, in multiply-adds:
//   patch_embed.proj   tokens · d · (C · p²)
//   per block          qkv T · d · 3d, proj T · d · d, fc1 T · d · h, fc2 T · h · d   (h = mlp_ratio · d)
//                      attention q kᵀ and softmax(·) v: 2 · T² · d   (heads · T² · head_dim each)
//   heads              d · classes   (the class token only)
// ResNet (resnet.h), per conv: H' · W' · out · C · k²  with H' = (H + 2·padding − k) / stride + 1,
//   H the conv's input height (the stem sees the image; the 3×3 / 2 max pool after it, padding 1,
//   halves H; a block's conv1 and downsample.0 see its input, conv2 conv1's output, conv3 conv2's);
//   heads: feature_dim · classes.
//
// Adapter terms (lora_linear.h). Lorica evaluates without gradients, where every LoRALinear folds
// its terms into W (frozen terms through the cached fold, trainable ones by the no-grad rule), so a
// term costs nothing per image: TermCost::folded, what the trainer records. The fold itself,
// 2 · r · in · rows per term per forward, is amortised over the evaluation batch and not counted.
// TermCost::factored counts each term as the side branch (x Aᵀ) Bᵀ a method would keep unmerged:
// positions · r · (in + rows) multiply-adds per term.
//
// Heads: the caller gives the classifier outputs evaluated per image (the trainer: every stream head
// created so far, the class-IL logits); the foundation head is the pre-training task's and is not part
// of a stream task's inference.

#include <cstdint>
#include <string>
#include <vector>

#include "engine/model/backbone.h"
#include "engine/model/resnet.h"
#include "engine/model/vit.h"

namespace lorica {

// One dense product of the forward pass: a layer applied at `positions` positions of one image
// (tokens, or output pixels H'·W'), as a matrix [out, in] (a conv: in = C·k²).
struct LayerWork {
    std::string name;  // timm's module name ("blocks.0.attn.qkv", "layer1.0.conv1", "patch_embed.proj")
    int64_t positions = 0;
    int64_t in = 0;
    int64_t out = 0;

    double macs() const { return double(positions) * double(in) * double(out); }
};

// FLOPs (multiply-add = 2) per image, by part.
struct FlopCount {
    double layers = 0.0;     // the LayerWork products (patch embedding / stem, blocks, convs)
    double attention = 0.0;  // ViT: q kᵀ and attention · v
    double adapters = 0.0;   // side branches of adapter terms counted as factored
    double heads = 0.0;      // classifier heads

    double total() const { return layers + attention + adapters + heads; }
    double gflops() const { return total() * 1e-9; }
};

enum class TermCost { folded, factored };

// Every dense product of one image's forward pass, in model order.
std::vector<LayerWork> layer_work(const ViTOptions& options);
std::vector<LayerWork> layer_work(const ResNetOptions& options);

// The backbone's FLOPs with `head_outputs` classifier outputs (no adapter terms).
FlopCount inference_flops(const ViTOptions& options, int64_t head_outputs);
FlopCount inference_flops(const ResNetOptions& options, int64_t head_outputs);

// A live backbone (ViT or ResNet; std::invalid_argument otherwise) with the adapter terms its
// LoRALinear layers carry now, counted as `terms` says.
FlopCount inference_flops(BackboneImpl& model, int64_t head_outputs, TermCost terms = TermCost::folded);

}  // namespace lorica
