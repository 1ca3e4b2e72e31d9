#pragma once
// Which layers an adapter method adapts: resolves `method.targets` against a backbone's module names.
//
// ViT shorthands (timm names):  q, k, v  → the q / k / v rows of every blocks.N.attn.qkv
//                           qkv      → every blocks.N.attn.qkv (all 3·dim rows)
//                           proj, fc1, fc2 → blocks.N.attn.proj, blocks.N.mlp.fc1, blocks.N.mlp.fc2
//                           all-linear     → every linear layer in the blocks
// ResNet shorthands (timm names, resnet.h): conv1, conv2, conv3 → layerS.M.conv1 / conv2 / conv3 of
//                           every block (conv3: the bottleneck's 1×1 expansion, the forgetting study's
//                           sites); downsample → every layerS.M.downsample.0 (the shortcut's 1×1 conv);
//                           all-conv → every conv in the stages; stem → the stem conv (module "conv1",
//                           which the conv1 shorthand does not include: the study never adapts it).
//                           `fc` (the foundation head) is refused: it carries no terms and stays frozen.
// A shorthand of the other family (q on a ResNet, conv3 on a ViT) is refused naming the target and
// the backbone's family.
// Patterns: module names with '*' matching one or more name characters, e.g. "blocks.*.attn.qkv"
// or "blocks.1?" (no), optionally followed by ":q", ":k" or ":v" to take a slice of a fused qkv.

#include <string>
#include <vector>

#include "engine/model/backbone.h"

namespace lorica {

struct AdapterSite {
    std::string module;      // timm module name, e.g. "blocks.0.attn.qkv"
    std::string slice;       // "", "q", "k" or "v"
    LoRALinear layer;        // the layer the term is added to
    int64_t row_offset = 0;  // first output row of the slice
    int64_t rows = 0;        // rows of the slice (the whole output width when slice is "")
    int64_t in = 0;          // input width

    std::string name() const { return slice.empty() ? module : module + ":" + slice; }
};

// Sites in model order (block by block; q before v). Throws std::invalid_argument naming a target
// that matches nothing, or a slice asked of a layer that is not a fused qkv.
std::vector<AdapterSite> resolve_adapter_sites(Backbone model, const std::vector<std::string>& targets);

// Checks the rank of conv sites (a conv's LoRA A is a k×k conv C → r and B a 1×1 conv r → rows): throws
// std::invalid_argument naming method.rank and the first conv site with rank > min(C, rows).
void check_adapter_rank(const std::vector<AdapterSite>& sites, int64_t rank);

// '*' glob match of a module name (exposed for tests).
bool module_name_matches(const std::string& pattern, const std::string& name);

}  // namespace lorica
