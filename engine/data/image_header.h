#pragma once
// The size of a PNG or JPEG file read from its header only (no pixel decoding): what preflight checks
// on every image of a streamed data set before the run starts.
//
// PNG: the signature and the IHDR chunk (width, height, colour type). JPEG: the SOI marker, then the
// markers up to the first start-of-frame (SOF0..SOF15 except DHT/JPG/DAC), read incrementally (most
// files need only their first few KiB). Plain C++, no LibTorch.
//
// Throws ImageDecodeError (image_decode.h) whose message starts with the path: a missing or
// unreadable file, an unknown format, a header that ends early or is malformed, an empty or
// oversized image (kMaxImagePixels). A body that is corrupt behind a good header is found only when
// the image is decoded (during the run, as a DataError naming the file).

#include <string>

namespace lorica {

struct ImageHeader {
    int width = 0;
    int height = 0;
    int channels = 0;  // as stored: 1 (gray), 3 (colour); alpha not counted
};

ImageHeader read_image_header(const std::string& path);

}  // namespace lorica
