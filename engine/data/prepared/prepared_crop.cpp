#include "engine/data/prepared/prepared_crop.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include <ATen/ATen.h>
#include <torch/torch.h>

namespace lorica {
namespace {

// One axis of map_crop_box: [start, start + length) of `source` pixels in `stored` pixels.
void prepared_crop_map_axis(int64_t start, int64_t length, int64_t source, int64_t stored, int64_t& out_start,
                            int64_t& out_length) {
    const double scale = static_cast<double>(stored) / static_cast<double>(source);
    int64_t begin = std::llround(static_cast<double>(start) * scale);
    int64_t end = std::llround(static_cast<double>(start + length) * scale);
    begin = std::clamp<int64_t>(begin, 0, stored - 1);
    end = std::clamp<int64_t>(end, begin + 1, stored);
    out_start = begin;
    out_length = end - begin;
}

// Copies one row of `width` pixels of `channels` bytes, mirrored when `flip`.
void prepared_crop_copy_row(const uint8_t* src, int64_t width, int64_t channels, bool flip, uint8_t* dst) {
    if (!flip) {
        std::memcpy(dst, src, static_cast<size_t>(width * channels));
        return;
    }
    if (channels == 3) {
        for (int64_t x = 0; x < width; ++x) {
            const uint8_t* s = src + (width - 1 - x) * 3;
            uint8_t* d = dst + x * 3;
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
        return;
    }
    for (int64_t x = 0; x < width; ++x)
        for (int64_t c = 0; c < channels; ++c) dst[x * channels + c] = src[(width - 1 - x) * channels + c];
}

}  // namespace

CropBox map_crop_box(const CropBox& box, int64_t source_height, int64_t source_width, int64_t stored_height,
                     int64_t stored_width) {
    TORCH_CHECK(source_height > 0 && source_width > 0 && stored_height > 0 && stored_width > 0,
                "map_crop_box: empty image (source ", source_height, " x ", source_width, ", stored ", stored_height,
                " x ", stored_width, ")");
    CropBox out;
    prepared_crop_map_axis(box.top, box.height, source_height, stored_height, out.top, out.height);
    prepared_crop_map_axis(box.left, box.width, source_width, stored_width, out.left, out.width);
    return out;
}

void crop_resize_into(const PreparedImage& image, const CropBox& box, int64_t size, bool flip, uint8_t* out) {
    const int64_t c = image.channels;
    TORCH_CHECK(box.top >= 0 && box.left >= 0 && box.height > 0 && box.width > 0 &&
                    box.top + box.height <= image.height && box.left + box.width <= image.width,
                "crop_resize_into: box [", box.top, ", ", box.left, ", ", box.height, ", ", box.width, "] outside the ",
                image.height, " x ", image.width, " image");
    // Scratch reused by each thread: fresh pages for every crop cost more in page faults than the copy.
    thread_local std::vector<uint8_t> crop_pixels, flipped_pixels;
    const int64_t crop_row = box.width * c, row = size * c;
    crop_pixels.resize(static_cast<size_t>(box.height * crop_row));
    for (int64_t y = 0; y < box.height; ++y)
        std::memcpy(crop_pixels.data() + y * crop_row, image.pixels + ((box.top + y) * image.width + box.left) * c,
                    static_cast<size_t>(crop_row));
    if (box.height == size && box.width == size) {
        for (int64_t y = 0; y < size; ++y)
            prepared_crop_copy_row(crop_pixels.data() + y * row, size, c, flip, out + y * row);
        return;
    }
    // [1, C, h, w] channels-last views (memory order h, w, C): the layout of ATen's uint8 kernels,
    // which write straight into `out` (or the scratch that is then mirrored into it).
    const torch::Tensor input = torch::from_blob(crop_pixels.data(), {1, c, box.height, box.width},
                                                 {box.height * crop_row, 1, crop_row, c}, torch::kUInt8);
    uint8_t* target = out;
    if (flip) {
        flipped_pixels.resize(static_cast<size_t>(size * row));
        target = flipped_pixels.data();
    }
    torch::Tensor output = torch::from_blob(target, {1, c, size, size}, {size * row, 1, row, c}, torch::kUInt8);
    if (box.height > size || box.width > size)  // shrinking along either axis: antialiased (resize_bicubic's rule)
        at::_upsample_bicubic2d_aa_out(output, input, {size, size}, /*align_corners=*/false);
    else
        at::upsample_bicubic2d_out(output, input, {size, size}, /*align_corners=*/false);
    TORCH_CHECK(output.data_ptr<uint8_t>() == target, "crop_resize_into: the resampling kernel moved its output");
    if (flip)
        for (int64_t y = 0; y < size; ++y) prepared_crop_copy_row(target + y * row, size, c, true, out + y * row);
}

void center_crop_into(const PreparedImage& image, int64_t size, uint8_t* out) {
    const int64_t h = image.height, w = image.width, c = image.channels;
    // As center_crop: pad to at least size × size (zeros, the extra pixel after), then round the offset.
    const int64_t pad_h = std::max<int64_t>(0, size - h), pad_w = std::max<int64_t>(0, size - w);
    const int64_t top = static_cast<int64_t>(std::round((h + pad_h - size) / 2.0)) - pad_h / 2;
    const int64_t left = static_cast<int64_t>(std::round((w + pad_w - size) / 2.0)) - pad_w / 2;
    // Output columns [x0, x1) come from the image (source column left + x); the rest are zeros.
    const int64_t x0 = std::clamp<int64_t>(-left, 0, size), x1 = std::clamp<int64_t>(w - left, x0, size);
    for (int64_t y = 0; y < size; ++y) {
        uint8_t* dst = out + y * size * c;
        const int64_t sy = top + y;
        if (sy < 0 || sy >= h) {
            std::memset(dst, 0, static_cast<size_t>(size * c));
            continue;
        }
        std::memset(dst, 0, static_cast<size_t>(x0 * c));
        std::memcpy(dst + x0 * c, image.pixels + (sy * w + left + x0) * c, static_cast<size_t>((x1 - x0) * c));
        std::memset(dst + x1 * c, 0, static_cast<size_t>((size - x1) * c));
    }
}

CropNormaliser::CropNormaliser(int channels, const std::vector<double>& mean, const std::vector<double>& std)
    : channels_(channels) {
    TORCH_CHECK(mean.empty() || (static_cast<int>(mean.size()) == channels && std.size() == mean.size()),
                "CropNormaliser: mean/std have ", mean.size(), "/", std.size(), " entries for ", channels, " channels");
    table_ = torch::empty({channels, 256}, torch::kFloat32);
    float* t = table_.data_ptr<float>();
    for (int c = 0; c < channels; ++c)
        for (int v = 0; v < 256; ++v) {
            float x = static_cast<float>(v) / 255.0f;
            if (!mean.empty()) x = (x - static_cast<float>(mean[c])) / static_cast<float>(std[c]);
            t[c * 256 + v] = x;
        }
}

void CropNormaliser::operator()(const uint8_t* hwc, int64_t pixels, float* chw) const {
    const float* t = table_.const_data_ptr<float>();
    if (channels_ == 3) {
        const float *t0 = t, *t1 = t + 256, *t2 = t + 512;
        float *o0 = chw, *o1 = chw + pixels, *o2 = chw + 2 * pixels;
        for (int64_t p = 0; p < pixels; ++p) {
            const uint8_t* s = hwc + p * 3;
            o0[p] = t0[s[0]];
            o1[p] = t1[s[1]];
            o2[p] = t2[s[2]];
        }
        return;
    }
    for (int64_t p = 0; p < pixels; ++p)
        for (int c = 0; c < channels_; ++c) chw[c * pixels + p] = t[c * 256 + hwc[p * channels_ + c]];
}

torch::Tensor normalise_crops(const torch::Tensor& crops, const torch::Tensor& table) {
    TORCH_CHECK(crops.dim() == 4 && crops.scalar_type() == torch::kUInt8,
                "normalise_crops: uint8 [B, S, S, C] expected");
    const int64_t c = crops.size(3);
    TORCH_CHECK(table.size(0) == c && table.size(1) == 256, "normalise_crops: a [", c, ", 256] table expected");
    const torch::Tensor flat = table.to(crops.device()).contiguous().view({-1});
    const torch::Tensor offsets = torch::arange(c, torch::TensorOptions().dtype(torch::kInt64).device(crops.device()))
                                      .mul_(256)
                                      .view({1, c, 1, 1});
    const torch::Tensor index = crops.permute({0, 3, 1, 2}).to(torch::kInt64).add_(offsets);
    return flat.take(index).contiguous();
}

}  // namespace lorica
