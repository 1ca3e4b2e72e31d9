#include "engine/model/adapter_targets.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace lorica {

bool module_name_matches(const std::string& pattern, const std::string& name) {
    // Iterative glob with '*' = any (possibly empty) run of characters.
    size_t p = 0, n = 0, star = std::string::npos, mark = 0;
    while (n < name.size()) {
        if (p < pattern.size() && pattern[p] == name[n]) {
            ++p, ++n;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++, mark = n;
        } else if (star != std::string::npos) {
            p = star + 1, n = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

namespace {

const std::map<std::string, std::string>& vit_target_shorthands() {
    static const std::map<std::string, std::string> shorthand = {
        {"q", "blocks.*.attn.qkv:q"}, {"k", "blocks.*.attn.qkv:k"},   {"v", "blocks.*.attn.qkv:v"},
        {"qkv", "blocks.*.attn.qkv"}, {"proj", "blocks.*.attn.proj"}, {"fc1", "blocks.*.mlp.fc1"},
        {"fc2", "blocks.*.mlp.fc2"},  {"all-linear", "blocks.*"}};
    return shorthand;
}

const std::map<std::string, std::string>& resnet_target_shorthands() {
    static const std::map<std::string, std::string> shorthand = {
        {"conv1", "layer*.*.conv1"}, {"conv2", "layer*.*.conv2"},
        {"conv3", "layer*.*.conv3"}, {"downsample", "layer*.*.downsample.0"},
        {"all-conv", "layer*"},      {"stem", "conv1"}};
    return shorthand;
}

// The pattern a target stands for on this family; throws naming a target of the other family and
// ResNet's foundation head.
std::string target_pattern(BackboneFamily family, const std::string& target) {
    const bool resnet = family == BackboneFamily::resnet;
    const auto& own = resnet ? resnet_target_shorthands() : vit_target_shorthands();
    const auto& other = resnet ? vit_target_shorthands() : resnet_target_shorthands();
    const std::string family_name(name_of(kBackboneFamilyNames, family));
    const std::string hint = resnet
                                 ? "ResNet targets: conv1, conv2, conv3, downsample, all-conv, stem or module patterns "
                                   "such as layer*.*.conv3"
                                 : "ViT targets: q, k, v, qkv, proj, fc1, fc2, all-linear or module patterns such "
                                   "as blocks.*.attn.qkv";
    if (auto it = own.find(target); it != own.end()) return it->second;
    if (resnet && (target == "fc" || target.rfind("fc.", 0) == 0))
        throw std::invalid_argument("adapter target '" + target +
                                    "': fc is the ResNet's foundation (pre-training) head; it stays frozen, as in "
                                    "the forgetting study, and carries no adapter terms (stream tasks have their own "
                                    "heads). " +
                                    hint);
    if (other.count(target) || (resnet && target.rfind("blocks.", 0) == 0) ||
        (!resnet && target.rfind("layer", 0) == 0))
        throw std::invalid_argument("adapter target '" + target +
                                    "' names a layer of the other backbone family; the "
                                    "backbone is a " +
                                    family_name + " (" + hint + ")");
    return target;
}

}  // namespace

std::vector<AdapterSite> resolve_adapter_sites(Backbone model, const std::vector<std::string>& targets) {
    auto layers = model->lora_layers();

    // (layer index, slice) pairs selected, kept in model order with q < k < v.
    std::set<std::pair<size_t, int>> chosen;  // slice code: -1 whole, 0 q, 1 k, 2 v
    for (const auto& target : targets) {
        std::string spec = target_pattern(model->family(), target);
        std::string pattern = spec, slice;
        if (auto colon = spec.find(':'); colon != std::string::npos) {
            pattern = spec.substr(0, colon);
            slice = spec.substr(colon + 1);
            if (slice != "q" && slice != "k" && slice != "v")
                throw std::invalid_argument("adapter target '" + target + "': slice must be :q, :k or :v");
        }
        bool matched = false;
        for (size_t i = 0; i < layers.size(); ++i) {
            if (!module_name_matches(pattern, layers[i].first)) continue;
            if (!slice.empty() && layers[i].first.size() >= 4 &&
                layers[i].first.compare(layers[i].first.size() - 4, 4, ".qkv") != 0)
                throw std::invalid_argument("adapter target '" + target + "': a :" + slice +
                                            " slice needs a fused qkv "
                                            "layer, but it matches " +
                                            layers[i].first);
            chosen.insert({i, slice.empty() ? -1 : (slice == "q" ? 0 : slice == "k" ? 1 : 2)});
            matched = true;
        }
        if (!matched)
            throw std::invalid_argument("adapter target '" + target +
                                        "' matches no layer of the model (layers look like " + layers.front().first +
                                        ")");
    }
    std::vector<AdapterSite> sites;
    for (const auto& [index, code] : chosen) {
        const auto& [name, layer] = layers[index];
        if (code >= 0 && chosen.count({index, -1}))
            throw std::invalid_argument("adapter targets select both all of " + name + " and a slice of it");
        AdapterSite site{name, "", layer, 0, layer->options.out_features(), layer->options.in_features()};
        if (code >= 0) {
            site.slice = code == 0 ? "q" : code == 1 ? "k" : "v";
            const int64_t dim = layer->options.out_features() / 3;  // a fused qkv [3·dim, dim]
            site.row_offset = code * dim;
            site.rows = dim;
        }
        sites.push_back(site);
    }
    return sites;
}

void check_adapter_rank(const std::vector<AdapterSite>& sites, int64_t rank) {
    for (const AdapterSite& site : sites) {
        const LoRALinearOptions& o = site.layer->options;
        if (!o.is_conv()) continue;
        const int64_t limit = std::min(o.in_channels(), site.rows);
        if (rank > limit)
            throw std::invalid_argument("method.rank " + std::to_string(rank) + " exceeds the channels of " +
                                        site.name() + " (a " + std::to_string(o.kernel_size()) + "×" +
                                        std::to_string(o.kernel_size()) + " conv " + std::to_string(o.in_channels()) +
                                        " → " + std::to_string(site.rows) + " channels: rank ≤ " +
                                        std::to_string(limit) + ")");
    }
}

}  // namespace lorica
