#pragma once
// Step losses kept on the device and read back to the host in blocks, so that a training step does
// not wait for the GPU: reading a loss with `loss.item()` every step blocks the host until the
// step's kernels have run, and the next step's kernels cannot be queued meanwhile.
//
// push() keeps a detached reference to each step's 0-dim loss (no copy, no sync), and optionally
// further values of the same step (AdapterMethod::step_state's tensors); read() / read_steps() stack
// the pending ones on the device and copy them to the host in one blocking device→host transfer
// (one host read, engine/runtime/host_read.h): one synchronisation per block instead of one per
// step. Every step's loss and values are read, none is dropped.
// Losses of any floating dtype come back as the doubles `loss.item<double>()` would give
// (float → double is exact), so block size never changes a reported value.
//
//   LossReadback losses(loss_readback_steps(config.train, device));
//   if (losses.push(loss)) for (double v : losses.read()) ...;   // full block
//   ...
//   for (double v : losses.read()) ...;                          // the rest, at an epoch's end

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "engine/config/experiment_config.h"

namespace lorica {

// One step as read back: its loss and the values pushed with it (each flattened, as doubles).
struct StepReadout {
    double loss = 0.0;
    std::vector<std::vector<double>> values;  // in push order; values[i].size() = numel of the i-th tensor
};

class LossReadback {
public:
    explicit LossReadback(int64_t every);  // every ≥ 1: the block size push() reports as full

    // One step's loss (a 0-dim tensor on any device) and further values of the step (tensors of any
    // floating dtype and shape on the loss's device, read back flattened). Returns true when `every`
    // steps are pending.
    bool push(const torch::Tensor& loss, const std::vector<torch::Tensor>& values = {});

    // The pending losses in push order, as doubles; clears them (values pushed with them are dropped).
    // Empty when none is pending.
    std::vector<double> read();

    // The pending steps in push order with their values; clears them. One device→host copy.
    std::vector<StepReadout> read_steps();

    int64_t pending() const { return static_cast<int64_t>(pending_.size()); }
    int64_t every() const { return every_; }

private:
    int64_t every_;
    std::vector<torch::Tensor> pending_;
    std::vector<std::vector<torch::Tensor>> pending_values_;  // per pending step
};

// train.loss_readback_steps resolved for a device: the configured value when > 0; for 0 (auto) 1 on
// the CPU (a read costs nothing there: the loss is already computed when the step returns) and
// kAutoCudaLossReadbackSteps elsewhere.
int64_t loss_readback_steps(const TrainConfig& train, torch::Device device);

}  // namespace lorica
