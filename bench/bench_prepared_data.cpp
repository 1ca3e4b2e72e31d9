// Training batches from JPEG files against the same batches from a prepared set (data.prepared), on
// the CPU: the decode path (StreamedSamples: decode + RandomResizedCrop + flip + normalise in float)
// and the prepared path (PreparedSamples: crop + resize on the stored 8-bit pixels + the table
// normalise), 1 worker each, train mode at --size, measured in one run on the same machine.
//
//   ./build/bench/bench_prepared_data [--n 300] [--classes 10] [--size 224] [--batch 32] [--passes 2]
//                                     [--keep DIR]
//
// The program writes an ImageNet-R-like folder (root/<class>/<image>.jpg: JPEGs of ~500 × 375 in
// both orientations and a few other sizes, smooth shapes plus noise, quality 90), prepares it
// (prepare_images at resize_size = size · 8 / 7, the streamed test transform's), then times --passes
// passes over every training image in planned batches of --batch, for each path, alternately (the
// best pass of each counts). Printed per path: images/s of wall time and images per CPU-second of
// the process (every thread: the worker and the waiting caller), which is the per-core rate. Then the
// prepared path's kernels alone, per image: crop + resize (ATen's uint8 channels-last bicubic) and
// the normalise, each on one core. Goal: ≥ 5,000 images per CPU-second at 224 px from a prepared set.
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/data/decode_pool.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_store.h"
#include "engine/data/prepared/prepared_crop.h"
#include "engine/data/prepared/prepared_images.h"
#include "engine/data/prepared/prepared_samples.h"
#include "engine/data/prepared/prepared_writer.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/streamed_samples.h"
#include "engine/data/streaming_image_dataset.h"

using namespace lorica;
using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

namespace {

struct Options {
    int n = 300, classes = 10, size = 224, batch = 32, passes = 2;
    std::string keep;
};

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// CPU time of this thread: the kernels' cost, whatever else the machine runs.
double thread_cpu_seconds() {
    timespec t{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

double cpu_seconds() {
    struct rusage usage {};
    ::getrusage(RUSAGE_SELF, &usage);
    return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

// An ImageNet-R-like picture: a few smooth blobs on a gradient, plus noise.
DecodedImage bench_prepared_picture(int w, int h, uint64_t seed) {
    DecodedImage img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(0.0, 1.0);
    std::uniform_int_distribution<int> noise(-10, 10);
    double cx[3], cy[3], r[3];
    for (int k = 0; k < 3; ++k) cx[k] = u(rng) * w, cy[k] = u(rng) * h, r[k] = (0.1 + 0.3 * u(rng)) * w;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) {
                double v = 60.0 + 120.0 * (c == 0 ? x / double(w) : c == 1 ? y / double(h) : 0.5);
                for (int k = 0; k < 3; ++k) {
                    const double d2 = ((x - cx[k]) * (x - cx[k]) + (y - cy[k]) * (y - cy[k])) / (r[k] * r[k]);
                    v += (k == c ? 90.0 : -30.0) * std::exp(-d2);
                }
                img.pixels[(static_cast<size_t>(y) * w + x) * 3 + c] =
                    static_cast<uint8_t>(std::clamp<int>(static_cast<int>(v) + noise(rng), 0, 255));
            }
    return img;
}

void write_folder(const fs::path& root, const Options& o) {
    static const int sizes[][2] = {{500, 375}, {375, 500}, {500, 333}, {500, 400}, {450, 450}};
    for (int i = 0; i < o.n; ++i) {
        const fs::path p = root / ("class" + std::to_string(i % o.classes)) / ("img" + std::to_string(i) + ".jpg");
        if (fs::exists(p)) continue;
        fs::create_directories(p.parent_path());
        const auto& s = sizes[i % 5];
        write_image_file(p.string(), encode_jpeg(bench_prepared_picture(s[0], s[1], static_cast<uint64_t>(i)), 90));
    }
}

struct PassResult {
    double images_per_second = 0, images_per_cpu_second = 0;
};

PassResult time_pass(SampleSource& source, int batch, uint64_t seed) {
    std::vector<torch::Tensor> batches;
    for (int64_t start = 0; start < source.size(); start += batch)
        batches.push_back(index_range(start, std::min<int64_t>(source.size(), start + batch)));
    const double cpu0 = cpu_seconds();
    const auto t0 = Clock::now();
    source.plan(batches, BatchMode::train, seed);
    int64_t images = 0;
    for (const auto& b : batches) images += source.batch(b, BatchMode::train, seed).size(0);
    return {images / seconds_since(t0), images / (cpu_seconds() - cpu0)};
}

}  // namespace

int main(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
        if (a == "--n")
            o.n = std::stoi(next());
        else if (a == "--classes")
            o.classes = std::stoi(next());
        else if (a == "--size")
            o.size = std::stoi(next());
        else if (a == "--batch")
            o.batch = std::stoi(next());
        else if (a == "--passes")
            o.passes = std::stoi(next());
        else if (a == "--keep")
            o.keep = next();
        else {
            std::fprintf(stderr, "unknown argument %s\n", a.c_str());
            return 2;
        }
    }
    if (o.classes < 2 || o.n < 5 * o.classes || o.passes < 1) {
        std::fprintf(stderr, "--classes must be at least 2, --n at least 5 × classes, --passes at least 1\n");
        return 2;
    }
    torch::set_num_threads(1);
    std::printf("CPU: %s, %u hardware threads; LibTorch intra-op threads 1\n", cpu_model().c_str(),
                std::thread::hardware_concurrency());
    const fs::path dir = o.keep.empty()
                             ? fs::temp_directory_path() / ("lorica-bench-prepared-" + std::to_string(::getpid()))
                             : fs::path(o.keep);
    const fs::path root = dir / "images", prepared = dir / "prepared";
    try {
        auto t0 = Clock::now();
        write_folder(root, o);
        const RawDataset raw = load_image_folder(root.string(), "", 3);
        std::printf(
            "image folder: %d JPEGs (~500 x 375, quality 90) in %d classes, %lld training images "
            "(written in %.1f s) under %s\n",
            o.n, o.classes, static_cast<long long>(raw.train_store->size()), seconds_since(t0), dir.string().c_str());
        PrepareOptions prepare;
        prepare.transform.resize_size = o.size * 8 / 7;
        prepare.workers = 1;
        const PrepareSummary summary = prepare_images(prepared.string(), {{raw.train_store, "train"}}, prepare);
        std::printf("prepared at resize_size %lld: %lld images, %.1f MB, %.2f s on 1 worker (%.0f images/s)\n",
                    static_cast<long long>(prepare.transform.resize_size), static_cast<long long>(summary.images),
                    summary.bytes / 1e6, summary.seconds,
                    summary.seconds > 0 ? summary.images_written / summary.seconds : 0.0);

        ImageTransformOptions transform;
        transform.size = o.size;
        transform.resize_size = prepare.transform.resize_size;
        const std::vector<double> mean{0.485, 0.456, 0.406}, stdv{0.229, 0.224, 0.225};
        std::vector<int64_t> members(static_cast<size_t>(raw.train_store->size()));
        for (size_t i = 0; i < members.size(); ++i) members[i] = static_cast<int64_t>(i);

        auto streamed_split = std::make_shared<StreamedSplit>();
        StreamingImageOptions cache;
        cache.channels = 3;
        cache.cache_bytes = 1u << 20;  // smaller than one pass: every image is decoded again, as in training
        cache.workers = 0;
        cache.transform = transform;
        streamed_split->images = std::make_shared<StreamingImageDataset>(raw.train_store, cache);
        streamed_split->pool = std::make_shared<DecodePool>(1);
        streamed_split->transform = transform;
        StreamedSamples decode_path(streamed_split, members, SampleNormalisation{"identity", {}, mean, stdv});

        auto prepared_split = std::make_shared<PreparedSplit>();
        prepared_split->images = PreparedImages::open(prepared.string(), *raw.train_store, prepare.transform);
        prepared_split->pool = std::make_shared<DecodePool>(1);
        prepared_split->transform = transform;
        PreparedSamples prepared_path(prepared_split, members, SampleNormalisation{"identity", {}, mean, stdv});

        PassResult jpeg, fast;
        for (int pass = 0; pass < o.passes; ++pass) {  // alternately, so both see the same machine state
            const PassResult a = time_pass(decode_path, o.batch, 100 + pass);
            const PassResult b = time_pass(prepared_path, o.batch, 100 + pass);
            if (a.images_per_cpu_second > jpeg.images_per_cpu_second) jpeg = a;
            if (b.images_per_cpu_second > fast.images_per_cpu_second) fast = b;
        }
        std::printf("train batches at %d px, batch %d, 1 worker (best of %d passes):\n", o.size, o.batch, o.passes);
        std::printf(
            "  JPEG path     (decode + crop + resize + flip + normalise, float): %8.0f images/s, %8.0f "
            "images per CPU-second\n",
            jpeg.images_per_second, jpeg.images_per_cpu_second);
        std::printf(
            "  prepared path (crop + resize + flip on uint8, table normalise):   %8.0f images/s, %8.0f "
            "images per CPU-second\n",
            fast.images_per_second, fast.images_per_cpu_second);
        std::printf("  prepared / JPEG: %.1fx per CPU-second (goal: prepared >= 5000 images per CPU-second)\n",
                    fast.images_per_cpu_second / jpeg.images_per_cpu_second);

        // The prepared path's kernels alone, on this thread.
        const int64_t s = o.size, images = prepared_split->images->size();
        torch::Tensor crop = torch::empty({s, s, 3}, torch::kUInt8);
        torch::Tensor out = torch::empty({3, s, s});
        const CropNormaliser normaliser(3, mean, stdv);
        std::mt19937_64 rng(7);
        double crop_seconds = 0, normalise_seconds = 0, full_seconds = 0;
        int64_t reps = 0;
        for (int round = 0; round < 3; ++round)
            for (int64_t i = 0; i < images; ++i, ++reps) {
                const PreparedImage im = prepared_split->images->image(i);
                const CropBox box = random_resized_crop_box(im.source_height, im.source_width, transform, rng);
                const CropBox mapped = map_crop_box(box, im.source_height, im.source_width, im.height, im.width);
                double t = thread_cpu_seconds();
                crop_resize_into(im, mapped, s, (i & 1) != 0, crop.data_ptr<uint8_t>());
                crop_seconds += thread_cpu_seconds() - t;
                t = thread_cpu_seconds();
                normaliser(crop.data_ptr<uint8_t>(), s * s, out.data_ptr<float>());
                normalise_seconds += thread_cpu_seconds() - t;
                t = thread_cpu_seconds();
                crop_resize_into(im, {0, 0, im.height, im.width}, s, false, crop.data_ptr<uint8_t>());
                full_seconds += thread_cpu_seconds() - t;
            }
        std::printf(
            "prepared kernels, CPU time per image: random crop + resize %.0f us, whole stored image "
            "-> %lld px %.0f us, normalise %.0f us\n",
            1e6 * crop_seconds / reps, static_cast<long long>(s), 1e6 * full_seconds / reps,
            1e6 * normalise_seconds / reps);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench_prepared_data: %s\n", e.what());
        if (o.keep.empty()) fs::remove_all(dir);
        return 1;
    }
    if (o.keep.empty()) fs::remove_all(dir);
    return 0;
}
