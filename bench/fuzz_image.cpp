// libFuzzer target for PNG/JPEG decoding (engine/data/image_decode.cpp, libpng + libjpeg).
//
// Any input must either decode, or throw ImageDecodeError. A decoded image has 1 or 3 channels, a
// positive size within kMaxImagePixels and exactly width × height × channels bytes; it survives a
// lossless PNG round trip (encode, decode: the same pixels) and channel conversion. Anything else
// (another exception, a sanitizer report, a longjmp gone wrong) is a bug.

#include <cstdint>

#include "bench/fuzz_support.h"
#include "engine/data/image_decode.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace lorica;
    DecodedImage image;
    try {
        image = decode_image({data, size}, "fuzz.img");
    } catch (const ImageDecodeError&) {
        return 0;
    } catch (const std::exception& e) {
        fuzz::unexpected_exception(e.what());
    }
    fuzz::check(image.channels == 1 || image.channels == 3);
    fuzz::check(image.width > 0 && image.height > 0);
    fuzz::check(static_cast<std::int64_t>(image.width) * image.height <= kMaxImagePixels);
    fuzz::check(image.pixels.size() == static_cast<std::size_t>(image.width) * image.height * image.channels);
    if (static_cast<std::int64_t>(image.width) * image.height > 256 * 256) return 0;  // keep the round trips cheap
    try {
        const std::vector<std::uint8_t> png = encode_png(image);
        const DecodedImage again = decode_image(png, "again.png");
        fuzz::check(again.width == image.width && again.height == image.height && again.channels == image.channels);
        fuzz::check(again.pixels == image.pixels);
        const DecodedImage other = convert_channels(image, image.channels == 1 ? 3 : 1);
        fuzz::check(other.pixels.size() == static_cast<std::size_t>(image.width) * image.height * other.channels);
        if (image.channels == 1) fuzz::check(convert_channels(other, 1).pixels == image.pixels);  // gray → RGB → gray
    } catch (const std::exception& e) {
        fuzz::unexpected_exception(e.what());
    }
    return 0;
}
