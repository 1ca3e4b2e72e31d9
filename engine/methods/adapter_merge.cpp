#include "engine/methods/adapter_merge.h"

#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

namespace lorica {

const char* to_string(MergeKind kind) { return kind == MergeKind::cat ? "cat" : "linear"; }

MergeKind merge_kind_from_string(const std::string& name) {
    if (name == "cat") return MergeKind::cat;
    if (name == "linear") return MergeKind::linear;
    throw std::invalid_argument("unknown merge '" + name + "' (allowed: cat, linear)");
}

AdapterFactors merge_adapters(const std::vector<AdapterFactors>& adapters, const std::vector<double>& weights,
                              MergeKind kind) {
    if (adapters.empty()) throw std::invalid_argument("merge_adapters: no adapters to merge");
    if (weights.size() != adapters.size())
        throw std::invalid_argument("merge_adapters: " + std::to_string(weights.size()) + " weights for " +
                                    std::to_string(adapters.size()) + " adapters");
    const auto& first = adapters.front();
    for (size_t t = 0; t < adapters.size(); ++t) {
        const auto& a = adapters[t];
        if (a.A.size(1) != first.A.size(1) || a.B.size(0) != first.B.size(0) || a.B.size(1) != a.A.size(0))
            throw std::invalid_argument("merge_adapters: adapter " + std::to_string(t) + " has A [" +
                                        std::to_string(a.A.size(0)) + ", " + std::to_string(a.A.size(1)) + "], B [" +
                                        std::to_string(a.B.size(0)) + ", " + std::to_string(a.B.size(1)) +
                                        "], which does not match adapter 0");
        if (kind == MergeKind::linear && a.A.size(0) != first.A.size(0))
            throw std::invalid_argument("merge_adapters: a linear merge needs equal ranks (adapter " +
                                        std::to_string(t) + " has rank " + std::to_string(a.A.size(0)) +
                                        ", adapter 0 " + std::to_string(first.A.size(0)) + ")");
        if (weights[t] < 0 || a.scale <= 0)
            throw std::invalid_argument("merge_adapters: adapter " + std::to_string(t) +
                                        " needs weight >= 0 and scale > 0");
    }
    torch::NoGradGuard no_grad;
    AdapterFactors out;
    out.scale = 1.0;
    if (kind == MergeKind::cat) {
        std::vector<torch::Tensor> as, bs;
        for (size_t t = 0; t < adapters.size(); ++t) {
            as.push_back(adapters[t].A.detach());
            bs.push_back(adapters[t].B.detach() * (weights[t] * adapters[t].scale));
        }
        out.A = torch::cat(as, 0);
        out.B = torch::cat(bs, 1);
    } else {
        for (size_t t = 0; t < adapters.size(); ++t) {
            const double root = std::sqrt(weights[t] * adapters[t].scale);
            torch::Tensor a = adapters[t].A.detach() * root, b = adapters[t].B.detach() * root;
            out.A = out.A.defined() ? out.A + a : a;
            out.B = out.B.defined() ? out.B + b : b;
        }
    }
    return out;
}

torch::Tensor merged_delta(const std::vector<AdapterFactors>& adapters, const std::vector<double>& weights,
                           MergeKind kind) {
    AdapterFactors m = merge_adapters(adapters, weights, kind);
    return m.B.matmul(m.A);
}

std::vector<double> merge_weights(int count, double weight) {
    return std::vector<double>(static_cast<size_t>(std::max(count, 0)), weight > 0 ? weight : 1.0 / std::max(count, 1));
}

}  // namespace lorica
