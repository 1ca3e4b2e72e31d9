#pragma once
// Tiny generated image folders for data-set streams and foundation data: class folders of small PNGs
// whose pixels depend on the class (a learnable signal) and on the image's index (no two alike).
//
//   write_class_folders(root, {"a", "b"}, 6, 2)   root/train/a/0.png .. 5.png, root/test/a/0.png, 1.png, ...
//   write_flat_class_folders(root, {...}, 3)      root/<class>/0.png .. 2.png (a validation folder)

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/data/image_decode.h"

namespace lorica::testing {

// A 12 × 12 RGB image: colour from the class, a gradient shifted by the image's index.
inline DecodedImage class_pattern_image(int cls, int index) {
    constexpr int kSize = 12;
    DecodedImage img;
    img.width = img.height = kSize;
    img.channels = 3;
    img.pixels.resize(static_cast<size_t>(kSize) * kSize * 3);
    for (int y = 0; y < kSize; ++y)
        for (int x = 0; x < kSize; ++x) {
            uint8_t* p = &img.pixels[(static_cast<size_t>(y) * kSize + x) * 3];
            p[0] = static_cast<uint8_t>((cls * 71 + x * 13 + index * 7) % 256);
            p[1] = static_cast<uint8_t>((cls * 113 + y * 17 + index * 3) % 256);
            p[2] = static_cast<uint8_t>((cls * 29 + (x + y) * 5) % 256);
        }
    return img;
}

inline void write_pattern_png(const std::filesystem::path& path, int cls, int index) {
    std::filesystem::create_directories(path.parent_path());
    write_image_file(path.string(), encode_png(class_pattern_image(cls, index)));
}

// root/train/<class>/<i>.png (i < train_per_class) and root/test/<class>/<i>.png (i < test_per_class).
// `salt` shifts the classes' patterns, so two data sets written with different salts differ.
inline void write_class_folders(const std::filesystem::path& root, const std::vector<std::string>& classes,
                                int train_per_class, int test_per_class, int salt = 0) {
    for (size_t c = 0; c < classes.size(); ++c) {
        for (int i = 0; i < train_per_class; ++i)
            write_pattern_png(root / "train" / classes[c] / (std::to_string(i) + ".png"), static_cast<int>(c) + salt,
                              i);
        for (int i = 0; i < test_per_class; ++i)
            write_pattern_png(root / "test" / classes[c] / (std::to_string(i) + ".png"), static_cast<int>(c) + salt,
                              100 + i);
    }
}

// root/<class>/<i>.png (i < per_class): every image of a class in its folder, no split.
inline void write_flat_class_folders(const std::filesystem::path& root, const std::vector<std::string>& classes,
                                     int per_class) {
    for (size_t c = 0; c < classes.size(); ++c)
        for (int i = 0; i < per_class; ++i)
            write_pattern_png(root / classes[c] / (std::to_string(i) + ".png"), static_cast<int>(c), i);
}

}  // namespace lorica::testing
