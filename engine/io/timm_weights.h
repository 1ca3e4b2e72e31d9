#pragma once
// timm weights (safetensors) ↔ Lorica's backbones (ViT, ResNet), by name.
//
// Lorica's ViT uses timm's module names at every size (vit.h), so a timm `vit_*_patch*_*`
// safetensors file (vit_base_patch16_224 and smaller: tiny, small) loads tensor by tensor.
// `load_timm_weights` checks every tensor before copying anything:
//   - missing keys (a model parameter the file lacks) and unexpected keys (a file tensor the model
//     lacks, e.g. fc_norm of a global-average-pool variant or blocks.12 of a deeper model) are errors
//     listing the names;
//   - shape mismatches are errors naming the tensor, both shapes, and what the file looks like
//     ("the file looks like dim 768, patch 16, depth 12 (ViT-B/16); hint: is this a ViT-B/16 file?
//     set backbone.preset = vit_base_patch16_224");
//   - pos_embed [1, 1 + g², dim] with a different grid g: resampled bicubically to the model's grid
//     (timm's resample_abs_pos_embed: the class-token row kept, the grid interpolated with
//     align_corners = false, no antialias), with a note; `interpolate_pos_embed = false` makes it an error;
//   - head: optional. Absent in the file → the model's head keeps its init (note); present with a
//     different number of classes (e.g. the 1000 ImageNet classes into a 5-class foundation head) →
//     skipped with a note; a model without a head skips the file's head (note).
// Any float dtype of the file (F32, F16, BF16, F64) is converted to float32.

#include <string>
#include <vector>

#include <torch/types.h>

#include "engine/model/backbone.h"
#include "engine/model/vit.h"

namespace lorica {

class WeightsError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct TimmLoadOptions {
    bool interpolate_pos_embed = true;  // resample a pos_embed of another grid size (else error)
    bool load_head = true;              // load `head` when its shape matches
};

struct TimmLoadReport {
    std::vector<std::string> loaded;  // tensor names copied
    std::vector<std::string> notes;   // skipped head, resampled pos_embed, ...
};

// Loads `path` into `model` (see above). Throws WeightsError naming the file and the tensors; the
// model is unchanged when it throws.
TimmLoadReport load_timm_weights(Backbone model, const std::string& path, const TimmLoadOptions& options = {});

// Writes the model's parameters in timm names (the LoRALinear weights as they are, without the
// adapter terms), and its buffers (BatchNorm statistics). With `head_weight` [classes, dim] / `head_bias`
// [classes] given, they are written as the head (`head.*` / ResNet `fc.*`) instead of the model's own.
// Metadata: the backbone's description() as JSON under "lorica.backbone" (and, for ViTs, the same
// options under "lorica.vit", as files written before ResNets had).
void save_timm_weights(const std::string& path, Backbone model, const torch::Tensor& head_weight = {},
                       const torch::Tensor& head_bias = {});

// The ViT options a timm-layout file implies (dim, patch, depth, heads guessed as dim / 64, image size
// from the pos_embed grid, head classes); for error hints and `inspect`. Throws WeightsError when the
// file lacks cls_token / pos_embed / patch_embed.proj.weight.
ViTOptions infer_vit_options(const std::string& path);

}  // namespace lorica
