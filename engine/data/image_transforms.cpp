#include "engine/data/image_transforms.h"

#include <cmath>
#include <cstring>

#include <torch/torch.h>

namespace lorica {

torch::Tensor image_to_tensor(const DecodedImage& image) {
    torch::Tensor hwc = torch::empty({image.height, image.width, image.channels}, torch::kUInt8);
    std::memcpy(hwc.data_ptr<uint8_t>(), image.pixels.data(), image.pixels.size());
    return hwc.permute({2, 0, 1}).to(torch::kFloat32).div_(255.0f).contiguous();
}

torch::Tensor resize_bicubic(const torch::Tensor& image, int64_t out_h, int64_t out_w) {
    if (image.size(1) == out_h && image.size(2) == out_w) return image;
    const bool shrink = out_h < image.size(1) || out_w < image.size(2);
    torch::Tensor out =
        torch::nn::functional::interpolate(image.unsqueeze(0), torch::nn::functional::InterpolateFuncOptions()
                                                                   .size(std::vector<int64_t>{out_h, out_w})
                                                                   .mode(torch::kBicubic)
                                                                   .align_corners(false)
                                                                   .antialias(shrink));
    return out.squeeze(0).clamp_(0.0, 1.0);
}

torch::Tensor resize_shorter_side(const torch::Tensor& image, int64_t size) {
    const int64_t h = image.size(1), w = image.size(2);
    if (h <= w) return resize_bicubic(image, size, static_cast<int64_t>(static_cast<double>(size) * w / h));
    return resize_bicubic(image, static_cast<int64_t>(static_cast<double>(size) * h / w), size);
}

torch::Tensor center_crop(const torch::Tensor& image, int64_t size) {
    int64_t h = image.size(1), w = image.size(2);
    torch::Tensor img = image;
    if (h < size || w < size) {  // torchvision pads with zeros when the image is smaller
        const int64_t pad_h = std::max<int64_t>(0, size - h), pad_w = std::max<int64_t>(0, size - w);
        img = torch::constant_pad_nd(img, {pad_w / 2, (pad_w + 1) / 2, pad_h / 2, (pad_h + 1) / 2});
        h = img.size(1);
        w = img.size(2);
    }
    const int64_t top = static_cast<int64_t>(std::round((h - size) / 2.0));
    const int64_t left = static_cast<int64_t>(std::round((w - size) / 2.0));
    return img.narrow(1, top, size).narrow(2, left, size);
}

CropBox random_resized_crop_box(int64_t height, int64_t width, const ImageTransformOptions& o, std::mt19937_64& rng) {
    const double area = static_cast<double>(height * width);
    std::uniform_real_distribution<double> scale(o.min_scale, o.max_scale);
    std::uniform_real_distribution<double> log_ratio(std::log(o.min_ratio), std::log(o.max_ratio));
    for (int attempt = 0; attempt < 10; ++attempt) {
        const double target = area * scale(rng);
        const double ratio = std::exp(log_ratio(rng));
        const auto w = static_cast<int64_t>(std::round(std::sqrt(target * ratio)));
        const auto h = static_cast<int64_t>(std::round(std::sqrt(target / ratio)));
        if (w > 0 && h > 0 && w <= width && h <= height) {
            const int64_t top = std::uniform_int_distribution<int64_t>(0, height - h)(rng);
            const int64_t left = std::uniform_int_distribution<int64_t>(0, width - w)(rng);
            return {top, left, h, w};
        }
    }
    const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
    int64_t w = width, h = height;
    if (in_ratio < o.min_ratio)
        h = static_cast<int64_t>(std::round(w / o.min_ratio));
    else if (in_ratio > o.max_ratio)
        w = static_cast<int64_t>(std::round(h * o.max_ratio));
    return {(height - h) / 2, (width - w) / 2, h, w};
}

namespace {
torch::Tensor normalize(torch::Tensor x, const ImageTransformOptions& o) {
    if (o.mean.empty()) return x;
    TORCH_CHECK(static_cast<int64_t>(o.mean.size()) == x.size(0) && o.std.size() == o.mean.size(),
                "image transform: mean/std have ", o.mean.size(), " entries but the image has ", x.size(0),
                " channels");
    auto mean = torch::tensor(o.mean, torch::kFloat32).view({-1, 1, 1});
    auto std = torch::tensor(o.std, torch::kFloat32).view({-1, 1, 1});
    return (x - mean) / std;
}
}  // namespace

torch::Tensor test_transform(const torch::Tensor& image, const ImageTransformOptions& o) {
    return normalize(center_crop(resize_shorter_side(image, o.resize_size), o.size).contiguous(), o);
}

torch::Tensor train_transform(const torch::Tensor& image, const ImageTransformOptions& o, std::mt19937_64& rng) {
    const CropBox box = random_resized_crop_box(image.size(1), image.size(2), o, rng);
    torch::Tensor x =
        resize_bicubic(image.narrow(1, box.top, box.height).narrow(2, box.left, box.width), o.size, o.size);
    if (o.horizontal_flip && std::bernoulli_distribution(0.5)(rng)) x = x.flip({2});
    return normalize(x.contiguous(), o);
}

}  // namespace lorica
