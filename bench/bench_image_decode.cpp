// Image decode throughput (images/s) of engine/data/image_decode on images this program writes itself
// (500×375 RGB, ImageNet's typical size: smooth gradients plus noise), with reading the same files'
// bytes timed alongside as the reference (ratios compare across machines), and the streaming data
// set's batch throughput with and without background decoding.
//
//   ./build/bench/bench_image_decode [--images N] [--threads N] [--keep DIR]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>

#include <torch/torch.h>

#include "engine/data/image_decode.h"
#include "engine/data/image_transforms.h"
#include "engine/data/streaming_image_dataset.h"

using namespace lorica;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

DecodedImage synthetic(int w, int h, uint64_t seed) {
    DecodedImage img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> noise(-12, 12);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                int v = (x * (c + 1) * 255 / w + y * (3 - c) * 255 / h) / 2 + noise(rng);
                img.pixels[(static_cast<size_t>(y) * w + x) * 3 + c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
            }
    return img;
}

std::vector<uint8_t> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

int main(int argc, char** argv) {
    int images = 64, threads = 1;
    std::string keep;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--images")) images = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
        if (!std::strcmp(argv[i], "--keep")) keep = argv[i + 1];
    }
    torch::set_num_threads(threads);
    const fs::path dir = keep.empty()
                             ? fs::temp_directory_path() / ("lorica-bench-decode-" + std::to_string(::getpid()))
                             : fs::path(keep);
    fs::create_directories(dir);
    std::vector<std::string> png, jpeg;
    size_t png_bytes = 0, jpeg_bytes = 0;
    for (int i = 0; i < images; ++i) {
        DecodedImage img = synthetic(500, 375, static_cast<uint64_t>(i));
        auto p = encode_png(img), j = encode_jpeg(img, 90);
        png_bytes += p.size();
        jpeg_bytes += j.size();
        png.push_back((dir / ("img" + std::to_string(i) + ".png")).string());
        jpeg.push_back((dir / ("img" + std::to_string(i) + ".jpg")).string());
        write_image_file(png.back(), p);
        write_image_file(jpeg.back(), j);
    }
    std::printf("%d images 500×375 RGB written to %s (PNG %.1f KiB, JPEG q90 %.1f KiB each on average)\n", images,
                dir.c_str(), png_bytes / 1024.0 / images, jpeg_bytes / 1024.0 / images);

    auto rate = [&](const std::vector<std::string>& files, auto&& fn) {
        for (int i = 0; i < std::min<int>(4, static_cast<int>(files.size())); ++i)
            fn(files[i]);  // warm-up (page cache)
        auto t0 = Clock::now();
        for (const auto& f : files) fn(f);
        return files.size() / seconds_since(t0);
    };
    size_t sink = 0;
    const double read_rate = rate(jpeg, [&](const std::string& f) { sink += read_bytes(f).size(); });
    const double png_rate = rate(png, [&](const std::string& f) { sink += decode_image_file(f).pixels.size(); });
    const double jpeg_rate = rate(jpeg, [&](const std::string& f) { sink += decode_image_file(f).pixels.size(); });
    ImageTransformOptions t;  // 256 → 224
    const double jpeg_test_rate = rate(
        jpeg, [&](const std::string& f) { sink += test_transform(image_to_tensor(decode_image_file(f)), t).numel(); });
    std::mt19937_64 rng(0);
    const double jpeg_train_rate = rate(jpeg, [&](const std::string& f) {
        sink += train_transform(image_to_tensor(decode_image_file(f)), t, rng).numel();
    });

    std::printf("\n%-44s %12s %14s\n", "step (one thread)", "images/s", "vs file read");
    std::printf("%-44s %12.0f %14s\n", "read JPEG file bytes (reference)", read_rate, "1.00x");
    std::printf("%-44s %12.1f %13.4fx\n", "decode PNG", png_rate, png_rate / read_rate);
    std::printf("%-44s %12.1f %13.4fx\n", "decode JPEG", jpeg_rate, jpeg_rate / read_rate);
    std::printf("%-44s %12.1f %13.4fx\n", "decode JPEG + test transform (256 → 224)", jpeg_test_rate,
                jpeg_test_rate / read_rate);
    std::printf("%-44s %12.1f %13.4fx\n", "decode JPEG + train transform (RRC 224, flip)", jpeg_train_rate,
                jpeg_train_rate / read_rate);

    // Streaming data set: batches of 16 (test transform), cold cache, with 0 and 2 background workers.
    std::vector<ImageEntry> entries;
    for (size_t i = 0; i < jpeg.size(); ++i) entries.push_back({jpeg[i], static_cast<int>(i % 2)});
    auto stream_rate = [&](int workers) {
        StreamingImageOptions o;
        o.workers = workers;
        o.cache_bytes = 64u << 20;
        StreamingImageDataset ds(entries, o);
        std::vector<std::vector<int64_t>> batches;
        for (int64_t b = 0; b < ds.size(); b += 16) {
            std::vector<int64_t> idx;
            for (int64_t i = b; i < std::min<int64_t>(b + 16, ds.size()); ++i) idx.push_back(i);
            batches.push_back(idx);
        }
        auto t0 = Clock::now();
        if (!batches.empty()) ds.prefetch(batches[0]);
        for (size_t b = 0; b < batches.size(); ++b) {
            if (b + 1 < batches.size()) ds.prefetch(batches[b + 1]);
            sink += ds.batch(batches[b], false, rng).numel();
        }
        return ds.size() / seconds_since(t0);
    };
    const double stream0 = stream_rate(0), stream2 = stream_rate(2);
    std::printf("%-44s %12.1f %13.4fx\n", "streaming batches, decode on demand", stream0, stream0 / read_rate);
    std::printf("%-44s %12.1f %13.4fx  (%.2fx on demand)\n", "streaming batches, 2 background decoders", stream2,
                stream2 / read_rate, stream2 / stream0);
    if (keep.empty()) fs::remove_all(dir);
    return sink == 0;
}
