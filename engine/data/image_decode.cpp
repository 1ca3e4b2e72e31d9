#include "engine/data/image_decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>

#include <jpeglib.h>
#include <png.h>

namespace lorica {
namespace {

void check_size(int64_t width, int64_t height, const std::string& name) {
    if (width <= 0 || height <= 0)
        throw ImageDecodeError(name + ": empty image (" + std::to_string(width) + "×" + std::to_string(height) + ")");
    if (width * height > kMaxImagePixels)
        throw ImageDecodeError(name + ": image of " + std::to_string(width) + "×" + std::to_string(height) +
                               " pixels is over the limit");
}

DecodedImage decode_png(std::span<const uint8_t> bytes, const std::string& name) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
        throw ImageDecodeError(name + ": corrupt PNG (" + image.message + ")");
    try {
        check_size(image.width, image.height, name);
    } catch (...) {
        png_image_free(&image);
        throw;
    }
    const bool color = (image.format & PNG_FORMAT_FLAG_COLOR) != 0;
    image.format = color ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;  // alpha composited over the background (black)
    DecodedImage out;
    out.width = static_cast<int>(image.width);
    out.height = static_cast<int>(image.height);
    out.channels = color ? 3 : 1;
    out.pixels.resize(PNG_IMAGE_SIZE(image));
    png_color black{0, 0, 0};
    if (!png_image_finish_read(&image, &black, out.pixels.data(), 0, nullptr)) {
        std::string message = image.message;
        png_image_free(&image);
        throw ImageDecodeError(name + ": corrupt PNG (" + message + ")");
    }
    return out;
}

struct JpegErrorManager {
    jpeg_error_mgr base;
    std::jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
};

void jpeg_error_exit(j_common_ptr info) {
    auto* err = reinterpret_cast<JpegErrorManager*>(info->err);
    (*info->err->format_message)(info, err->message);
    std::longjmp(err->jump, 1);
}
// Warnings (level -1) are counted, not printed; trace messages are dropped.
void jpeg_count_warnings(j_common_ptr info, int level) {
    if (level < 0) info->err->num_warnings++;
}

// All state that must survive a longjmp lives in this struct, outside the frame's registers.
struct JpegDecodeState {
    jpeg_decompress_struct info;
    JpegErrorManager err;
    DecodedImage out;
    bool created = false;
};

bool decode_jpeg_into(JpegDecodeState& s, std::span<const uint8_t> bytes, std::string& failure) {
    s.info.err = jpeg_std_error(&s.err.base);
    s.err.base.error_exit = jpeg_error_exit;
    s.err.base.emit_message = jpeg_count_warnings;
    if (setjmp(s.err.jump)) {
        failure = s.err.message;
        return false;
    }
    jpeg_create_decompress(&s.info);
    s.created = true;
    jpeg_mem_src(&s.info, bytes.data(), static_cast<unsigned long>(bytes.size()));
    jpeg_read_header(&s.info, TRUE);
    if (s.info.jpeg_color_space == JCS_CMYK || s.info.jpeg_color_space == JCS_YCCK) {
        std::snprintf(s.err.message, sizeof s.err.message, "CMYK JPEG is not supported");
        failure = s.err.message;
        return false;
    }
    s.info.out_color_space = s.info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&s.info);
    if (static_cast<int64_t>(s.info.output_width) * s.info.output_height > kMaxImagePixels ||
        s.info.output_width == 0) {
        std::snprintf(s.err.message, sizeof s.err.message, "image size %u×%u is not accepted", s.info.output_width,
                      s.info.output_height);
        failure = s.err.message;
        return false;
    }
    s.out.width = static_cast<int>(s.info.output_width);
    s.out.height = static_cast<int>(s.info.output_height);
    s.out.channels = s.info.output_components;
    s.out.pixels.resize(static_cast<size_t>(s.out.width) * s.out.height * s.out.channels);
    while (s.info.output_scanline < s.info.output_height) {
        JSAMPROW row = s.out.pixels.data() + static_cast<size_t>(s.info.output_scanline) * s.out.width * s.out.channels;
        jpeg_read_scanlines(&s.info, &row, 1);
    }
    if (s.err.base.num_warnings > 0) {
        // libjpeg pads a truncated file with gray and only warns: a truncated image is an error here.
        std::snprintf(s.err.message, sizeof s.err.message, "truncated or corrupt data (%ld decoder warnings)",
                      s.err.base.num_warnings);
        failure = s.err.message;
        return false;
    }
    jpeg_finish_decompress(&s.info);
    return true;
}

DecodedImage decode_jpeg(std::span<const uint8_t> bytes, const std::string& name) {
    auto state = std::make_unique<JpegDecodeState>();
    std::memset(&state->info, 0, sizeof state->info);
    std::string failure;
    const bool ok = decode_jpeg_into(*state, bytes, failure);
    if (state->created) jpeg_destroy_decompress(&state->info);
    if (!ok) throw ImageDecodeError(name + ": corrupt JPEG (" + failure + ")");
    return std::move(state->out);
}

struct JpegEncodeState {
    jpeg_compress_struct info;
    JpegErrorManager err;
    unsigned char* buffer = nullptr;
    unsigned long size = 0;
    bool created = false;
};

bool encode_jpeg_into(JpegEncodeState& s, const DecodedImage& image, int quality) {
    s.info.err = jpeg_std_error(&s.err.base);
    s.err.base.error_exit = jpeg_error_exit;
    if (setjmp(s.err.jump)) return false;
    jpeg_create_compress(&s.info);
    s.created = true;
    jpeg_mem_dest(&s.info, &s.buffer, &s.size);
    s.info.image_width = static_cast<JDIMENSION>(image.width);
    s.info.image_height = static_cast<JDIMENSION>(image.height);
    s.info.input_components = image.channels;
    s.info.in_color_space = image.channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&s.info);
    jpeg_set_quality(&s.info, quality, TRUE);
    jpeg_start_compress(&s.info, TRUE);
    while (s.info.next_scanline < s.info.image_height) {
        JSAMPROW row = const_cast<uint8_t*>(image.pixels.data()) +
                       static_cast<size_t>(s.info.next_scanline) * image.width * image.channels;
        jpeg_write_scanlines(&s.info, &row, 1);
    }
    jpeg_finish_compress(&s.info);
    return true;
}

void check_encodable(const DecodedImage& image) {
    if ((image.channels != 1 && image.channels != 3) || image.width <= 0 || image.height <= 0 ||
        image.pixels.size() != static_cast<size_t>(image.width) * image.height * image.channels)
        throw ImageDecodeError("encode: image must be 1 or 3 channels with width × height × channels bytes");
}

}  // namespace

DecodedImage decode_image(std::span<const uint8_t> bytes, const std::string& name) {
    static const uint8_t png_sig[4] = {0x89, 'P', 'N', 'G'};
    if (bytes.size() >= 8 && std::memcmp(bytes.data(), png_sig, 4) == 0) return decode_png(bytes, name);
    if (bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) return decode_jpeg(bytes, name);
    if (bytes.empty()) throw ImageDecodeError(name + ": empty file");
    throw ImageDecodeError(name + ": not a PNG or JPEG file (unknown signature)");
}

DecodedImage decode_image_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw ImageDecodeError(path + ": cannot open");
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return decode_image(bytes, path);
}

std::vector<uint8_t> encode_png(const DecodedImage& image) {
    check_encodable(image);
    png_image png;
    std::memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    png.width = static_cast<png_uint_32>(image.width);
    png.height = static_cast<png_uint_32>(image.height);
    png.format = image.channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    png_alloc_size_t size = 0;
    if (!png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(), 0, nullptr))
        throw ImageDecodeError(std::string("encode PNG: ") + png.message);
    std::vector<uint8_t> out(size);
    if (!png_image_write_to_memory(&png, out.data(), &size, 0, image.pixels.data(), 0, nullptr))
        throw ImageDecodeError(std::string("encode PNG: ") + png.message);
    out.resize(size);
    return out;
}

std::vector<uint8_t> encode_jpeg(const DecodedImage& image, int quality) {
    check_encodable(image);
    auto state = std::make_unique<JpegEncodeState>();
    std::memset(&state->info, 0, sizeof state->info);
    const bool ok = encode_jpeg_into(*state, image, quality);
    std::vector<uint8_t> out;
    if (ok) out.assign(state->buffer, state->buffer + state->size);
    std::string message = ok ? "" : state->err.message;
    if (state->created) jpeg_destroy_compress(&state->info);
    std::free(state->buffer);
    if (!ok) throw ImageDecodeError("encode JPEG: " + message);
    return out;
}

void write_image_file(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw ImageDecodeError(path + ": write failed");
}

DecodedImage convert_channels(const DecodedImage& image, int channels) {
    if (image.channels == channels) return image;
    DecodedImage out;
    out.width = image.width;
    out.height = image.height;
    out.channels = channels;
    const size_t n = static_cast<size_t>(image.width) * image.height;
    out.pixels.resize(n * channels);
    if (channels == 3 && image.channels == 1) {
        for (size_t i = 0; i < n; ++i)
            out.pixels[3 * i] = out.pixels[3 * i + 1] = out.pixels[3 * i + 2] = image.pixels[i];
    } else if (channels == 1 && image.channels == 3) {
        for (size_t i = 0; i < n; ++i) {
            const int y =
                (299 * image.pixels[3 * i] + 587 * image.pixels[3 * i + 1] + 114 * image.pixels[3 * i + 2] + 500) /
                1000;
            out.pixels[i] = static_cast<uint8_t>(y);
        }
    } else {
        throw ImageDecodeError("convert_channels: " + std::to_string(image.channels) + " → " +
                               std::to_string(channels) + " channels is not supported (1 or 3)");
    }
    return out;
}

}  // namespace lorica
