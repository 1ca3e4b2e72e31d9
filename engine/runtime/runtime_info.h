#pragma once
// What `lorica --version` and `lorica-cli --version` print: Lorica's version, the LibTorch it runs on
// (version and the library file loaded) and whether CUDA is usable. Torch-free header: the GUI's main()
// includes it.

#include <string>

namespace lorica {

struct RuntimeInfo {
    std::string lorica_version;  // "0.1.0"
    std::string torch_version;   // "2.11.0": the LibTorch Lorica was built with (and checked against)
    std::string torch_library;   // absolute path of the libtorch_cpu.so loaded, "" when unknown
    std::string cuda_library;    // absolute path of the libtorch_cuda.so loaded, "" when none is
    int cuda_devices = 0;        // torch::cuda::device_count()
    bool cuda_usable = false;    // torch::cuda::is_available()
};

// Asks LibTorch (initialises CUDA when libtorch_cuda.so is loaded).
RuntimeInfo runtime_info();

// Three lines, e.g.
//   lorica-cli 0.1.0
//   LibTorch 2.11.0 (/usr/lib/lorica/libtorch_cpu.so)
//   CUDA: not usable (LibTorch without CUDA; set LORICA_TORCH_LIB to a LibTorch 2.11.0 with CUDA)
std::string version_text(const std::string& program, const RuntimeInfo& info);

}  // namespace lorica
