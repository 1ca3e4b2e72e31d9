#pragma once
// PNG and JPEG decoding (libpng, libjpeg) into 8-bit pixels, and encoding (for tests and benches).
// Plain C++, no LibTorch.
//
// `decode_image` picks the decoder from the first bytes (PNG signature 89 50 4E 47, JPEG FF D8 FF),
// not from the file name. Output: 8 bits per channel, row-major [height, width, channels] with
// channels 1 (gray) or 3 (RGB): PNG palettes and 16-bit samples are expanded/reduced, alpha is
// composited over black and dropped (gray + alpha → gray). JPEG: grayscale stays 1 channel, YCbCr →
// RGB; CMYK is refused.
//
// Every failure (unknown format, truncated or corrupt data, a decoder error, an empty or huge image)
// throws ImageDecodeError whose message starts with the file name and never crashes the process
// (libjpeg's error exit is turned into the exception; libpng's simplified API reports errors).

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace lorica {

class ImageDecodeError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct DecodedImage {
    int width = 0;
    int height = 0;
    int channels = 0;             // 1 or 3
    std::vector<uint8_t> pixels;  // [height, width, channels]
};

// Largest accepted image (width × height), against decompression bombs.
inline constexpr int64_t kMaxImagePixels = 100'000'000;

DecodedImage decode_image(std::span<const uint8_t> bytes, const std::string& name);
DecodedImage decode_image_file(const std::string& path);

// Encoders (1 or 3 channels). Throw ImageDecodeError naming the path on failure.
std::vector<uint8_t> encode_png(const DecodedImage& image);
std::vector<uint8_t> encode_jpeg(const DecodedImage& image, int quality = 90);
void write_image_file(const std::string& path, const std::vector<uint8_t>& bytes);

// Converts to 1 channel (ITU-R 601 luma, rounded) or 3 channels (gray replicated).
DecodedImage convert_channels(const DecodedImage& image, int channels);

}  // namespace lorica
