#include "engine/methods/inflora_dual_gpm.h"

#include <cmath>
#include <tuple>

#include <torch/torch.h>

#include "engine/runtime/host_read.h"

namespace lorica {
namespace {

torch::Tensor inflora_as_cpu_double(const torch::Tensor& t) { return t.detach().to(torch::kCPU, torch::kFloat64); }

// Left singular vectors and singular values (descending) of m.
std::pair<torch::Tensor, torch::Tensor> inflora_svd(const torch::Tensor& m, bool full) {
    auto [u, s, vh] = torch::linalg_svd(m, /*full_matrices=*/full);
    return {u, s};
}

}  // namespace

torch::Tensor InfLoRASubspace::old_space(int64_t dim) const {
    auto opts = torch::TensorOptions().dtype(torch::kFloat64);
    if (empty()) return torch::zeros({dim, 0}, opts);
    if (type == InfLoRAProjection::remove) return basis;
    // The complement of the retained basis: the trailing left singular vectors of the full SVD.
    auto [u, s] = inflora_svd(basis, true);
    return u.slice(1, basis.size(1)).contiguous();
}

torch::Tensor InfLoRASubspace::project_out(const torch::Tensor& features) const {
    const torch::Tensor f = inflora_as_cpu_double(features);
    if (empty()) return f;
    const torch::Tensor p = basis.matmul(basis.t());
    return type == InfLoRAProjection::remove ? f - p.matmul(f) : p.matmul(f);
}

void InfLoRASubspace::update(const torch::Tensor& features, double threshold) {
    const torch::Tensor f = inflora_as_cpu_double(features);
    const int64_t dim = f.size(0);
    if (empty()) {  // after the first task (inflora.py lines 324-338)
        auto [u, s] = inflora_svd(f, false);
        const torch::Tensor ratio = s.square() / s.square().sum();
        const int64_t r = read_int(torch::lt(ratio.cumsum(0), threshold).sum());
        basis = u.slice(1, 0, std::max<int64_t>(r, 1)).contiguous();
        type = InfLoRAProjection::remove;
    } else {
        const double total = read_scalar(std::get<1>(inflora_svd(f, false)).square().sum());
        const torch::Tensor p = basis.matmul(basis.t());
        if (type == InfLoRAProjection::remove) {  // lines 341-368
            auto [u, s] = inflora_svd(f - p.matmul(f), false);
            const torch::Tensor ratio = s.square() / total;
            double accumulated = (total - read_scalar(s.square().sum())) / total;
            int64_t r = 0;
            for (int64_t i = 0; i < ratio.size(0) && accumulated < threshold; ++i, ++r)
                accumulated += read_scalar(ratio[i]);
            if (r > 0) {
                torch::Tensor grown = torch::cat({basis, u.slice(1, 0, r)}, 1);
                basis = grown.slice(1, 0, std::min<int64_t>(grown.size(1), dim)).contiguous();
            }
        } else {  // lines 369-396
            auto [u, s] = inflora_svd(p.matmul(f), false);
            const torch::Tensor ratio = s.square() / total;
            double accumulated = read_scalar(s.square().sum()) / total;
            int64_t r = 0;
            for (int64_t i = 0; i < ratio.size(0) && accumulated >= 1.0 - threshold; ++i, ++r)
                accumulated -= read_scalar(ratio[i]);
            if (r > 0) {
                const torch::Tensor ur = u.slice(1, 0, r);
                auto [ui, si] = inflora_svd(basis - ur.matmul(ur.t().matmul(basis)), true);
                basis = ui.slice(1, 0, std::max<int64_t>(basis.size(1) - r, 0)).contiguous();
            }
        }
    }
    // lines 401-408: a remove basis larger than half the space is kept as its complement.
    if (type == InfLoRAProjection::remove && 2 * basis.size(1) > dim) {
        auto [u, s] = inflora_svd(basis, true);
        basis = u.slice(1, basis.size(1)).contiguous();
        type = InfLoRAProjection::retain;
    }
    // Held at float32 values (the official code's numpy arrays are float32), so a resume file, which
    // stores float32, gives back exactly this basis.
    basis = basis.to(torch::kFloat32).to(torch::kFloat64);
}

torch::Tensor inflora_down_projection(const InfLoRASubspace& subspace, const torch::Tensor& features, int64_t rank) {
    auto [u, s] = inflora_svd(subspace.project_out(features), false);
    return u.slice(1, 0, rank).t().contiguous() / std::sqrt(3.0);
}

}  // namespace lorica
