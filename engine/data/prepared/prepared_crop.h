#pragma once
// The transforms of a prepared image (prepared_format.h) on its 8-bit pixels: the crop kernels of
// PreparedSamples (prepared_samples.h). A prepared image is the source image with its shorter side
// already resized to resize_size (bicubic, antialiased, rounded to 8 bits), so
//
//   test   the decode path's Resize(resize_size) → CenterCrop(size) is a centre crop of the stored
//          image: `center_crop_into`, a copy (zero padding where the image is smaller, as torchvision)
//   train  RandomResizedCrop(size) + flip: the box is drawn on the SOURCE size with the decode path's
//          random numbers (random_resized_crop_box), mapped onto the stored image (`map_crop_box`),
//          cropped and resized to size × size on uint8 pixels, then flipped (`crop_resize_into`)
//
// Resizing uses ATen's uint8 channels-last bicubic kernels (at::_upsample_bicubic2d_aa when the crop
// shrinks along either axis, as resize_bicubic's antialias rule; at::upsample_bicubic2d otherwise),
// which saturate to [0, 255] as the float path clamps to [0, 1]. Against the float kernels on the
// same 8-bit input they differ by ≤ ~1.1/255 on smooth images (measured on gradients, mean ~0.26/255):
// their weights are fixed-point; on pure noise a rare pixel differs more (the uint8 kernel saturates
// between its two passes). ~100–200 µs for a 256 × 341 → 224 resize on one core.
//
// Normalisation: `CropNormaliser` turns uint8 [S, S, C] (HWC) into float [C, S, S] with a table of
// 256 values per channel, table[c][v] = (v / 255 − mean[c]) / std[c] in float — one load per value
// instead of permute + convert + two passes (the obvious permute().to(float) costs ~1 ms an image).
// `normalise_crops` does the same for a batch on any device (a gather from the same table, so a CUDA
// batch holds bit for bit the CPU batch's values).

#include <cstdint>
#include <vector>

#include <torch/types.h>

#include "engine/data/image_transforms.h"
#include "engine/data/prepared/prepared_images.h"

namespace lorica {

// A box drawn on the source image (source_height × source_width) in the stored image's pixels
// (stored_height × stored_width): each edge scaled by stored / source along its axis and rounded
// (top = round(top · sy), bottom = round((top + height) · sy); columns alike), then clamped into the
// image with at least 1 pixel per side.
CropBox map_crop_box(const CropBox& source_box, int64_t source_height, int64_t source_width, int64_t stored_height,
                     int64_t stored_width);

// `box` (stored pixels, inside the image) of `image` resized to size × size, mirrored left–right when
// `flip`: written to `out`, uint8 [size, size, channels].
void crop_resize_into(const PreparedImage& image, const CropBox& box, int64_t size, bool flip, uint8_t* out);

// The central size × size window of `image` (top = round((H − size) / 2), as center_crop; zeros
// where the image is smaller than `size`): written to `out`, uint8 [size, size, channels].
void center_crop_into(const PreparedImage& image, int64_t size, uint8_t* out);

// uint8 [S, S, C] → float [C, S, S] through a per-channel table of the 256 pixel values.
class CropNormaliser {
public:
    // table[c][v] = (v / 255 − mean[c]) / std[c]; mean/std empty: v / 255. Both of `channels` entries.
    CropNormaliser(int channels, const std::vector<double>& mean, const std::vector<double>& std);
    int channels() const { return channels_; }
    // float [C, 256]: the table itself (normalise_crops gathers from it on the batch's device).
    const torch::Tensor& table() const { return table_; }
    // One crop: `hwc` uint8 [pixels, C] → `chw` float [C, pixels].
    void operator()(const uint8_t* hwc, int64_t pixels, float* chw) const;

private:
    int channels_;
    torch::Tensor table_;  // float [C, 256], contiguous, CPU
};

// A batch on its device: uint8 [B, S, S, C] → float [B, C, S, S], out[b][c][y][x] = table[c][crops[b][y][x][c]]
// (`table`: CropNormaliser::table(), on the crops' device or copied there).
torch::Tensor normalise_crops(const torch::Tensor& crops, const torch::Tensor& table);

}  // namespace lorica
