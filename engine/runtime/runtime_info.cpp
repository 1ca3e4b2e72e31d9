#include "engine/runtime/runtime_info.h"

#include <torch/cuda.h>

#include "engine/runtime/device.h"
#include "engine/runtime/torch_library.h"

#ifndef LORICA_VERSION
#define LORICA_VERSION "unknown"
#endif

namespace lorica {

RuntimeInfo runtime_info() {
    RuntimeInfo info;
    info.lorica_version = LORICA_VERSION;
    info.torch_version = torch_version();
    info.torch_library = loaded_library_path("libtorch_cpu.so");
    info.cuda_library = loaded_library_path("libtorch_cuda.so");
    info.cuda_usable = torch::cuda::is_available();
    info.cuda_devices = info.cuda_usable ? static_cast<int>(torch::cuda::device_count()) : 0;
    return info;
}

std::string version_text(const std::string& program, const RuntimeInfo& info) {
    std::string text = program + " " + info.lorica_version + "\n";
    text +=
        "LibTorch " + info.torch_version + (info.torch_library.empty() ? "" : " (" + info.torch_library + ")") + "\n";
    if (info.cuda_usable) {
        text += "CUDA: usable, " + std::to_string(info.cuda_devices) +
                (info.cuda_devices == 1 ? " device" : " devices") + " (" + info.cuda_library + ")\n";
    } else if (!info.cuda_library.empty()) {
        text += "CUDA: not usable: no CUDA device or driver found (" + info.cuda_library + " is loaded)\n";
    } else {
        text += "CUDA: not usable (LibTorch without CUDA; set LORICA_TORCH_LIB to the lib/ folder of a LibTorch " +
                info.torch_version + " with CUDA)\n";
    }
    return text;
}

}  // namespace lorica
