#pragma once
// Host → device copies of batches that do not stall the host.
//
// On a CUDA device, a CPU tensor is first placed in page-locked (pinned) memory — unless it already
// is — and then copied with non_blocking = true: the copy is queued on the current stream and the
// host goes on (a copy from pageable memory is staged and synchronous). LibTorch's caching host
// allocator keeps a temporary pinned buffer alive until the copy that reads it has finished, so the
// source may go out of scope at once. Kernels queued after the copy on the same stream see its data.
// On the CPU (or when the tensor is already on `device`) the tensor is returned as is: no copy.

#include <torch/types.h>

namespace lorica {

// `t` on `device`: pinned + asynchronous for CPU → CUDA, a plain .to() otherwise.
torch::Tensor to_device(const torch::Tensor& t, torch::Device device);

}  // namespace lorica
