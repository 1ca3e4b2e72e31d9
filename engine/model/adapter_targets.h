#pragma once
// Which layers an adapter method adapts: resolves `method.targets` against a ViT's module names.
//
// Shorthands (timm names):  q, k, v  → the q / k / v rows of every blocks.N.attn.qkv
//                           qkv      → every blocks.N.attn.qkv (all 3·dim rows)
//                           proj, fc1, fc2 → blocks.N.attn.proj, blocks.N.mlp.fc1, blocks.N.mlp.fc2
//                           all-linear     → every linear layer in the blocks
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

// '*' glob match of a module name (exposed for tests).
bool module_name_matches(const std::string& pattern, const std::string& name);

}  // namespace lorica
