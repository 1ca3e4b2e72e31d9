#pragma once
// Image transforms of the published ViT continual-learning pipelines, on float tensors [C, H, W]
// with pixels in [0, 1].
//
//   test:  Resize(resize_size, bicubic, shorter side) → CenterCrop(size)    (256 → 224 for ViT-B/16)
//   train: RandomResizedCrop(size, scale = [0.05, 1], ratio = [3/4, 4/3], bicubic) → random
//          horizontal flip (p = 0.5)
// then optionally (x − mean) / std per channel. Resizing uses bicubic interpolation with antialiasing
// when shrinking (as PIL and torchvision's antialias = true do), clamped to [0, 1].
// RandomResizedCrop follows torchvision: 10 tries of area ~ U(scale)·H·W and log-uniform aspect
// ratio; when none fits, a centre crop of the whole image clamped to the ratio range.
// Randomness comes from the caller's std::mt19937_64, so a seeded pipeline is reproducible.

#include <random>
#include <vector>

#include <torch/types.h>

#include "engine/data/image_decode.h"

namespace lorica {

struct ImageTransformOptions {
    int64_t size = 224;                                   // output side
    int64_t resize_size = 256;                            // test: shorter side before the centre crop
    double min_scale = 0.05, max_scale = 1.0;             // train: area fraction of the random crop
    double min_ratio = 3.0 / 4.0, max_ratio = 4.0 / 3.0;  // train: aspect ratio w / h
    bool horizontal_flip = true;                          // train: random flip
    std::vector<double> mean, std;                        // per channel (empty = no normalisation)
};

// uint8 [H, W, C] pixels → float [C, H, W] in [0, 1].
torch::Tensor image_to_tensor(const DecodedImage& image);
// float [C, H, W] → float [C, out_h, out_w], bicubic (antialiased when shrinking), clamped to [0, 1].
torch::Tensor resize_bicubic(const torch::Tensor& image, int64_t out_h, int64_t out_w);
// Shorter side to `size`, the longer one keeping the aspect ratio (truncated, as torchvision).
torch::Tensor resize_shorter_side(const torch::Tensor& image, int64_t size);
// The central size × size window (rounded as torchvision: top = round((H − size) / 2)).
torch::Tensor center_crop(const torch::Tensor& image, int64_t size);

// A crop window: rows [top, top + height), columns [left, left + width).
struct CropBox {
    int64_t top = 0, left = 0, height = 0, width = 0;
};
CropBox random_resized_crop_box(int64_t height, int64_t width, const ImageTransformOptions& options,
                                std::mt19937_64& rng);

// The two pipelines; normalisation applied when options.mean is non-empty.
torch::Tensor test_transform(const torch::Tensor& image, const ImageTransformOptions& options);
torch::Tensor train_transform(const torch::Tensor& image, const ImageTransformOptions& options, std::mt19937_64& rng);

}  // namespace lorica
