#include "engine/model/adapter_targets.h"

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

std::vector<AdapterSite> resolve_adapter_sites(Backbone model, const std::vector<std::string>& targets) {
    static const std::map<std::string, std::string> shorthand = {
        {"q", "blocks.*.attn.qkv:q"}, {"k", "blocks.*.attn.qkv:k"},   {"v", "blocks.*.attn.qkv:v"},
        {"qkv", "blocks.*.attn.qkv"}, {"proj", "blocks.*.attn.proj"}, {"fc1", "blocks.*.mlp.fc1"},
        {"fc2", "blocks.*.mlp.fc2"},  {"all-linear", "blocks.*"}};
    auto layers = model->lora_layers();

    // (layer index, slice) pairs selected, kept in model order with q < k < v.
    std::set<std::pair<size_t, int>> chosen;  // slice code: -1 whole, 0 q, 1 k, 2 v
    for (const auto& target : targets) {
        std::string spec = shorthand.count(target) ? shorthand.at(target) : target;
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

}  // namespace lorica
