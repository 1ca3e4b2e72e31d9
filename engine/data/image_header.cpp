#include "engine/data/image_header.h"

#include <cstdint>
#include <fstream>
#include <vector>

#include "engine/data/image_decode.h"

namespace lorica {
namespace {

uint32_t be32(const uint8_t* p) {
    return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}
uint32_t be16(const uint8_t* p) { return (uint32_t(p[0]) << 8) | p[1]; }

void check(const ImageHeader& h, const std::string& path) {
    if (h.width <= 0 || h.height <= 0)
        throw ImageDecodeError(path + ": empty image (" + std::to_string(h.width) + "×" + std::to_string(h.height) +
                               ")");
    if (int64_t(h.width) * h.height > kMaxImagePixels)
        throw ImageDecodeError(path + ": image of " + std::to_string(h.width) + "×" + std::to_string(h.height) +
                               " pixels is over the limit");
}

// Reads more of the file on demand (JPEG markers may sit behind large EXIF blocks).
class Bytes {
public:
    explicit Bytes(const std::string& path) : in_(path, std::ios::binary), path_(path) {
        if (!in_) throw ImageDecodeError(path + ": cannot open (missing file?)");
    }
    // True when bytes [0, n) are available.
    bool have(size_t n) {
        while (data_.size() < n && in_) {
            const size_t old = data_.size();
            data_.resize(std::max(n, old + 4096));
            in_.read(reinterpret_cast<char*>(data_.data() + old), static_cast<std::streamsize>(data_.size() - old));
            data_.resize(old + static_cast<size_t>(in_.gcount()));
        }
        return data_.size() >= n;
    }
    const uint8_t* at(size_t i) const { return data_.data() + i; }

private:
    std::ifstream in_;
    std::string path_;
    std::vector<uint8_t> data_;
};

ImageHeader png_header(Bytes& b, const std::string& path) {
    // signature (8) | length (4) "IHDR" (4) | width (4) height (4) depth (1) colour type (1) ...
    if (!b.have(8 + 8 + 13) || be32(b.at(8)) != 13 || std::string(reinterpret_cast<const char*>(b.at(12)), 4) != "IHDR")
        throw ImageDecodeError(path + ": corrupt PNG (no IHDR chunk after the signature)");
    ImageHeader h;
    h.width = static_cast<int>(std::min<uint32_t>(be32(b.at(16)), INT32_MAX));
    h.height = static_cast<int>(std::min<uint32_t>(be32(b.at(20)), INT32_MAX));
    const uint8_t colour = *b.at(25);
    if (colour != 0 && colour != 2 && colour != 3 && colour != 4 && colour != 6)
        throw ImageDecodeError(path + ": corrupt PNG (colour type " + std::to_string(colour) + ")");
    h.channels = (colour == 0 || colour == 4) ? 1 : 3;
    return h;
}

ImageHeader jpeg_header(Bytes& b, const std::string& path) {
    size_t pos = 2;  // after SOI
    for (;;) {
        if (!b.have(pos + 2))
            throw ImageDecodeError(path + ": corrupt JPEG (no start-of-frame marker before the end of the file)");
        if (*b.at(pos) != 0xFF)
            throw ImageDecodeError(path + ": corrupt JPEG (expected a marker at byte " + std::to_string(pos) + ")");
        const uint8_t marker = *b.at(pos + 1);
        if (marker == 0xFF) {  // fill byte
            ++pos;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // no length
            pos += 2;
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA)
            throw ImageDecodeError(path + ": corrupt JPEG (no start-of-frame marker before the scan)");
        if (!b.have(pos + 4)) throw ImageDecodeError(path + ": corrupt JPEG (truncated marker)");
        const size_t length = be16(b.at(pos + 2));
        if (length < 2) throw ImageDecodeError(path + ": corrupt JPEG (marker length " + std::to_string(length) + ")");
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
            // length (2) precision (1) height (2) width (2) components (1)
            if (length < 8 || !b.have(pos + 2 + 8))
                throw ImageDecodeError(path + ": corrupt JPEG (truncated frame header)");
            ImageHeader h;
            h.height = static_cast<int>(be16(b.at(pos + 5)));
            h.width = static_cast<int>(be16(b.at(pos + 7)));
            const int components = *b.at(pos + 9);
            if (components != 1 && components != 3)
                throw ImageDecodeError(path + ": JPEG with " + std::to_string(components) +
                                       " components (only gray and YCbCr/RGB are read; CMYK is refused)");
            h.channels = components;
            return h;
        }
        pos += 2 + length;
    }
}

}  // namespace

ImageHeader read_image_header(const std::string& path) {
    Bytes b(path);
    if (!b.have(3)) throw ImageDecodeError(path + ": not a PNG or JPEG file (too short)");
    ImageHeader h;
    if (b.have(8) && be32(b.at(0)) == 0x89504E47u && be32(b.at(4)) == 0x0D0A1A0Au)
        h = png_header(b, path);
    else if (*b.at(0) == 0xFF && *b.at(1) == 0xD8 && *b.at(2) == 0xFF)
        h = jpeg_header(b, path);
    else
        throw ImageDecodeError(path + ": not a PNG or JPEG file (unknown signature)");
    check(h, path);
    return h;
}

}  // namespace lorica
