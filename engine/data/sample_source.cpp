#include "engine/data/sample_source.h"

#include "engine/runtime/device_transfer.h"

namespace lorica {

torch::Tensor SampleSource::batch_on(const torch::Tensor& index, BatchMode mode, uint64_t seed, torch::Device device) {
    return to_device(batch(index, mode, seed), device);
}

}  // namespace lorica
