#include "engine/train/precision.h"

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>

namespace lorica {

torch::ScalarType autocast_dtype(Precision precision) {
    switch (precision) {
        case Precision::bf16:
            return torch::kBFloat16;
        case Precision::fp16:
            return torch::kHalf;
        case Precision::fp32:
            break;
    }
    return torch::kFloat;
}

AutocastScope::AutocastScope(Precision precision, torch::Device device) {
    if (precision == Precision::fp32) return;
    active_ = true;
    type_ = device.type();
    was_enabled_ = at::autocast::is_autocast_enabled(type_);
    previous_dtype_ = at::autocast::get_autocast_dtype(type_);
    at::autocast::set_autocast_dtype(type_, autocast_dtype(precision));
    at::autocast::set_autocast_enabled(type_, true);
    at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
    if (!active_) return;
    // The cast cache holds low-precision copies of the weights for the scope; drop it with the outermost one.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type_, was_enabled_);
    at::autocast::set_autocast_dtype(type_, previous_dtype_);
}

void enable_fast_fp32_math(torch::Device device) {
    if (!device.is_cuda()) return;
    at::globalContext().setAllowTF32CuBLAS(true);
    at::globalContext().setAllowTF32CuDNN(true);
}

}  // namespace lorica
