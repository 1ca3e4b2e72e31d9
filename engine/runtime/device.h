#pragma once
// Where training runs and with how many CPU threads.

#include <string>

#include <torch/types.h>

namespace lorica {

// "auto" → cuda:0 when a CUDA device is usable, else cpu; "cpu"; "cuda" / "cuda:N" (throws
// std::runtime_error when CUDA is not available, naming the config field).
torch::Device resolve_device(const std::string& requested);

// Sets LibTorch's intra-op threads: `threads` > 0 as given, 0 = $OMP_NUM_THREADS if set, else all
// cores. Returns the number set.
int configure_threads(int threads);

// "2.11.0" — the LibTorch the engine was built with.
std::string torch_version();

}  // namespace lorica
