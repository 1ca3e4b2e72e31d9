#include "engine/runtime/device.h"

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include <torch/cuda.h>
#include <torch/torch.h>
#include <torch/version.h>

namespace lorica {

torch::Device resolve_device(const std::string& requested) {
    if (requested == "cpu") return torch::kCPU;
    if (requested == "auto")
        return torch::cuda::is_available() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (!torch::cuda::is_available())
        throw std::runtime_error("config field 'device': '" + requested +
                                 "' asked for, but no CUDA device is available "
                                 "(use \"auto\" or \"cpu\")");
    torch::Device d(requested);
    if (d.index() >= static_cast<int>(torch::cuda::device_count()))
        throw std::runtime_error("config field 'device': " + requested + " does not exist (" +
                                 std::to_string(torch::cuda::device_count()) + " CUDA devices)");
    return d.has_index() ? d : torch::Device(torch::kCUDA, 0);
}

int configure_threads(int threads) {
    int n = threads;
    if (n <= 0) {
        if (const char* env = std::getenv("OMP_NUM_THREADS"); env && std::atoi(env) > 0)
            n = std::atoi(env);
        else
            n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    torch::set_num_threads(n);
    return n;
}

std::string torch_version() { return TORCH_VERSION; }

}  // namespace lorica
