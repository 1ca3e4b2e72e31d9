// Data sets on disk: CIFAR binary batches, PNG/JPEG decoding, image folders (scanned, pre-split,
// file lists), the published transforms, and the streaming data set with its bounded cache. Every
// file is written by the test; every bad file must give an error naming it.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"
#include "engine/data/cifar_binary.h"
#include "engine/data/idx_file.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_folder.h"
#include "engine/data/image_folder_index.h"
#include "engine/data/image_store.h"
#include "engine/data/image_transforms.h"
#include "engine/data/streaming_image_dataset.h"

using namespace lorica;
using lorica::testing::error_of;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Record i of a batch: label bytes, then pixel p = (seed + i + p) mod 251.
void write_cifar_batch(const fs::path& path, const std::vector<std::vector<uint8_t>>& labels, int seed) {
    std::ofstream out(path, std::ios::binary);
    for (size_t i = 0; i < labels.size(); ++i) {
        for (uint8_t l : labels[i]) out.put(static_cast<char>(l));
        for (int p = 0; p < kCifarImageBytes; ++p) out.put(static_cast<char>((seed + i + p) % 251));
    }
}

DecodedImage gradient(int w, int h, int channels, int seed = 0) {
    DecodedImage img{w, h, channels, std::vector<uint8_t>(static_cast<size_t>(w) * h * channels)};
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c)
                img.pixels[(static_cast<size_t>(y) * w + x) * channels + c] =
                    static_cast<uint8_t>((x * 4 + y * 2 + c * 40 + seed) % 256);
    return img;
}

void write_png(const fs::path& p, const DecodedImage& img) {
    fs::create_directories(p.parent_path());
    write_image_file(p.string(), encode_png(img));
}

}  // namespace

TEST(CifarBinary, Cifar10BatchesLoadWithPlanesAndLabels) {
    TempDir dir("data-io-c10");
    const fs::path root = dir.path / "cifar-10-batches-bin";
    fs::create_directories(root);
    for (int b = 1; b <= 5; ++b)
        write_cifar_batch(root / ("data_batch_" + std::to_string(b) + ".bin"), {{uint8_t(b)}, {9}}, b);
    write_cifar_batch(root / "test_batch.bin", {{3}, {4}, {5}}, 100);
    RawDataset d = load_cifar10(dir.path.string());  // the parent folder works too
    EXPECT_EQ(d.train_images.sizes(), (std::vector<int64_t>{10, 3, 32, 32}));
    EXPECT_EQ(d.test_images.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
    EXPECT_EQ(d.train_labels[0].item<int64_t>(), 1);
    EXPECT_EQ(d.train_labels[9].item<int64_t>(), 9);
    EXPECT_EQ(d.class_names[0], "airplane");
    // batch 2, record 1: pixel p = (2 + 1 + p) % 251; green plane starts at p = 1024, row 1 col 2 of it at 1024 + 34
    EXPECT_EQ(d.train_images[3][1][1][2].item<uint8_t>(), (2 + 1 + 1024 + 34) % 251);
    EXPECT_EQ(d.test_images[2][0][0][0].item<uint8_t>(), (100 + 2) % 251);
}

TEST(CifarBinary, BadBatchesAreNamed) {
    TempDir dir("data-io-c10bad");
    for (int b = 1; b <= 5; ++b) write_cifar_batch(dir.path / ("data_batch_" + std::to_string(b) + ".bin"), {{1}}, b);
    write_cifar_batch(dir.path / "test_batch.bin", {{1}}, 0);
    fs::resize_file(dir.path / "data_batch_3.bin", 3073 + 100);
    std::string e = error_of([&] { load_cifar10(dir.path.string()); });
    EXPECT_NE(e.find("data_batch_3.bin"), std::string::npos) << e;
    EXPECT_NE(e.find("truncated"), std::string::npos) << e;
    write_cifar_batch(dir.path / "data_batch_3.bin", {{1}, {10}}, 0);
    e = error_of([&] { load_cifar10(dir.path.string()); });
    EXPECT_NE(e.find("data_batch_3.bin: record 1 has label 10"), std::string::npos) << e;
    fs::remove(dir.path / "data_batch_3.bin");
    e = error_of([&] { load_cifar10(dir.path.string()); });
    EXPECT_NE(e.find("data_batch_3.bin: cannot open"), std::string::npos) << e;
    e = error_of([&] { load_cifar10((dir.path / "nowhere").string()); });
    EXPECT_NE(e.find("nowhere"), std::string::npos) << e;
}

TEST(CifarBinary, Cifar100FineAndCoarseLabels) {
    TempDir dir("data-io-c100");
    write_cifar_batch(dir.path / "train.bin", {{19, 99}, {0, 42}}, 0);
    write_cifar_batch(dir.path / "test.bin", {{7, 3}}, 0);
    RawDataset fine = load_cifar100(dir.path.string(), "fine");
    EXPECT_EQ(fine.num_classes, 100);
    EXPECT_EQ(fine.train_labels[0].item<int64_t>(), 99);
    EXPECT_EQ(fine.train_labels[1].item<int64_t>(), 42);
    RawDataset coarse = load_cifar100(dir.path.string(), "coarse");
    EXPECT_EQ(coarse.num_classes, 20);
    EXPECT_EQ(coarse.train_labels[0].item<int64_t>(), 19);
    EXPECT_EQ(coarse.test_labels[0].item<int64_t>(), 7);
    EXPECT_EQ(coarse.train_images[1][0][0][0].item<uint8_t>(), 1);  // pixel bytes start after both label bytes
}

TEST(ImageDecode, PngRoundTripIsExactAndJpegIsClose) {
    for (int channels : {1, 3}) {
        DecodedImage img = gradient(37, 21, channels);
        DecodedImage png = decode_image(encode_png(img), "mem.png");
        EXPECT_EQ(png.width, 37);
        EXPECT_EQ(png.height, 21);
        EXPECT_EQ(png.channels, channels);
        EXPECT_EQ(png.pixels, img.pixels);
        DecodedImage jpg = decode_image(encode_jpeg(img, 95), "mem.jpg");
        ASSERT_EQ(jpg.pixels.size(), img.pixels.size());
        double err = 0;
        for (size_t i = 0; i < img.pixels.size(); ++i) err += std::abs(int(jpg.pixels[i]) - int(img.pixels[i]));
        EXPECT_LT(err / img.pixels.size(), 4.0) << channels << " channels";
    }
    DecodedImage rgb = gradient(2, 1, 3);
    DecodedImage gray = convert_channels(rgb, 1);
    EXPECT_EQ(gray.pixels[1], (299 * rgb.pixels[3] + 587 * rgb.pixels[4] + 114 * rgb.pixels[5] + 500) / 1000);
}

TEST(ImageDecode, CorruptFilesGiveErrorsNamingTheFile) {
    std::vector<uint8_t> png = encode_png(gradient(40, 30, 3)), jpg = encode_jpeg(gradient(40, 30, 3));
    auto truncated = [](std::vector<uint8_t> v) {
        v.resize(v.size() / 2);
        return v;
    };
    std::string e = error_of([&] { decode_image(truncated(png), "cut.png"); });
    EXPECT_NE(e.find("cut.png: corrupt PNG"), std::string::npos) << e;
    e = error_of([&] { decode_image(truncated(jpg), "cut.jpg"); });
    EXPECT_NE(e.find("cut.jpg: corrupt JPEG"), std::string::npos) << e;
    std::vector<uint8_t> garbled = png;
    for (size_t i = 40; i < garbled.size(); i += 7) garbled[i] ^= 0x5A;
    e = error_of([&] { decode_image(garbled, "garbled.png"); });
    EXPECT_NE(e.find("garbled.png: corrupt PNG"), std::string::npos) << e;
    std::vector<uint8_t> jpeg_header_only(jpg.begin(), jpg.begin() + 20);
    e = error_of([&] { decode_image(jpeg_header_only, "short.jpg"); });
    EXPECT_NE(e.find("short.jpg: corrupt JPEG"), std::string::npos) << e;
    e = error_of([&] { decode_image(std::vector<uint8_t>{'G', 'I', 'F', '8', '9', 'a', 0, 0}, "x.gif"); });
    EXPECT_NE(e.find("x.gif: not a PNG or JPEG"), std::string::npos) << e;
    e = error_of([&] { decode_image(std::vector<uint8_t>{}, "empty.png"); });
    EXPECT_NE(e.find("empty.png: empty file"), std::string::npos) << e;
    e = error_of([&] { decode_image_file("/nonexistent/a.png"); });
    EXPECT_NE(e.find("/nonexistent/a.png: cannot open"), std::string::npos) << e;
    // every prefix of a valid file fails cleanly or decodes, never crashes
    for (size_t n = 0; n < jpg.size(); n += 37) error_of([&] { decode_image(std::span(jpg.data(), n), "prefix.jpg"); });
    for (size_t n = 0; n < png.size(); n += 37) error_of([&] { decode_image(std::span(png.data(), n), "prefix.png"); });
}

TEST(ImageTransforms, ResizeCropAndRandomResizedCropFollowTorchvision) {
    torch::Tensor img = torch::rand({3, 40, 60});
    EXPECT_EQ(resize_shorter_side(img, 20).sizes(), (std::vector<int64_t>{3, 20, 30}));
    EXPECT_EQ(resize_shorter_side(torch::rand({1, 50, 30}), 12).sizes(), (std::vector<int64_t>{1, 20, 12}));
    torch::Tensor crop = center_crop(img, 10);
    EXPECT_TRUE(
        torch::equal(crop, img.narrow(1, 15, 10).narrow(2, 25, 10)));  // top = round(30 / 2), left = round(50 / 2)
    ImageTransformOptions o;
    o.size = 8;
    o.resize_size = 9;
    torch::Tensor constant = torch::full({3, 30, 45}, 0.4f);
    EXPECT_LT((test_transform(constant, o) - 0.4f).abs().max().item<float>(), 1e-6);
    o.mean = {0.5, 0.5, 0.5};
    o.std = {0.25, 0.25, 0.25};
    EXPECT_LT((test_transform(constant, o) + 0.4f).abs().max().item<float>(), 1e-5);  // (0.4 − 0.5) / 0.25
    std::mt19937_64 rng(5);
    double min_fraction = 1.0, max_fraction = 0.0;
    for (int i = 0; i < 500; ++i) {
        CropBox b = random_resized_crop_box(100, 120, o, rng);
        ASSERT_GE(b.top, 0);
        ASSERT_GE(b.left, 0);
        ASSERT_LE(b.top + b.height, 100);
        ASSERT_LE(b.left + b.width, 120);
        const double ratio = double(b.width) / b.height, fraction = double(b.width * b.height) / (100 * 120);
        EXPECT_GT(ratio, 0.7);
        EXPECT_LT(ratio, 1.4);
        min_fraction = std::min(min_fraction, fraction);
        max_fraction = std::max(max_fraction, fraction);
    }
    EXPECT_LT(min_fraction, 0.1);
    EXPECT_GT(max_fraction, 0.7);
    EXPECT_EQ(train_transform(torch::rand({3, 50, 70}), o, rng).sizes(), (std::vector<int64_t>{3, 8, 8}));
}

TEST(ImageFolder, ScansClassFoldersPreSplitAndFileLists) {
    TempDir dir("data-io-folder");
    for (const char* cls : {"zebra", "cat"})
        for (int i = 0; i < 6; ++i)
            write_png(dir.path / "one" / cls / ("img" + std::to_string(i) + ".png"), gradient(20, 16, 3, i));
    std::ofstream(dir.path / "one" / "cat" / "notes.txt") << "not an image";
    ImageFolderIndex idx = scan_image_folder((dir.path / "one").string());
    EXPECT_EQ(idx.class_names, (std::vector<std::string>{"cat", "zebra"}));
    EXPECT_EQ(idx.train.size(), 10u);
    ASSERT_EQ(idx.test.size(), 2u);
    EXPECT_NE(idx.test[0].path.find("cat/img4.png"), std::string::npos) << "every 5th image of a class is a test image";
    EXPECT_EQ(idx.test[1].label, 1);

    for (const char* split : {"train", "test"})
        for (const char* cls : {"a", "b"}) write_png(dir.path / "split" / split / cls / "x.png", gradient(24, 24, 1));
    idx = scan_image_folder((dir.path / "split").string());
    EXPECT_EQ(idx.train.size(), 2u);
    EXPECT_EQ(idx.test.size(), 2u);

    std::ofstream(dir.path / "one" / "list_train.txt") << "# comment\nzebra/img0.png 1\ncat/img0.png 0\n\n";
    std::ofstream(dir.path / "one" / "list_test.txt") << "cat/img1.png 0\n";
    idx = scan_image_folder((dir.path / "one").string(), "list_{split}.txt");
    EXPECT_EQ(idx.train.size(), 2u);
    EXPECT_EQ(idx.class_names, (std::vector<std::string>{"cat", "zebra"}));

    // Loading streams the index's files: labels from the index, images decoded on demand to 1 channel.
    RawDataset d = load_image_folder((dir.path / "one").string(), "", 1);
    const ImageFolderIndex one = scan_image_folder((dir.path / "one").string());
    ASSERT_TRUE(d.streamed());
    EXPECT_FALSE(d.train_images.defined());
    EXPECT_EQ(d.train_store->size(), 10);
    EXPECT_EQ(d.test_store->size(), 2);
    EXPECT_EQ(d.num_classes, 2);
    EXPECT_EQ(d.channels, 1);
    EXPECT_EQ(d.class_names, one.class_names);
    for (size_t i = 0; i < one.train.size(); ++i) EXPECT_EQ(d.train_labels[i].item<int64_t>(), one.train[i].label);
    EXPECT_EQ(d.test_store->describe(0), one.test[0].path);
    const DecodedImage first = d.train_store->load(0);
    EXPECT_EQ(first.width, 20);
    EXPECT_EQ(first.height, 16);
    EXPECT_EQ(first.channels, 1);
}

TEST(ImageFolder, BadFoldersAndFilesAreNamed) {
    TempDir dir("data-io-badfolder");
    std::string e = error_of([&] { scan_image_folder((dir.path / "missing").string()); });
    EXPECT_NE(e.find("missing: no such folder"), std::string::npos) << e;
    e = error_of([&] { scan_image_folder(dir.path.string()); });
    EXPECT_NE(e.find("no class folders"), std::string::npos) << e;
    write_png(dir.path / "a" / "1.png", gradient(8, 8, 3));
    fs::create_directories(dir.path / "b");
    e = error_of([&] { scan_image_folder(dir.path.string()); });
    EXPECT_NE(e.find((dir.path / "b").string() + ": empty class folder"), std::string::npos) << e;
    std::ofstream(dir.path / "b" / "broken.png") << "\x89PNG\r\n\x1a\n garbage";
    e = error_of([&] { load_image_folder(dir.path.string(), "", 3); });
    EXPECT_NE(e.find("broken.png: corrupt PNG"), std::string::npos) << e;
    std::ofstream(dir.path / "l_train.txt") << "a/1.png\n";
    e = error_of([&] { scan_image_folder(dir.path.string(), "l_{split}.txt"); });
    EXPECT_NE(e.find("l_train.txt:1: expected"), std::string::npos) << e;
    std::ofstream(dir.path / "l_train.txt") << "a/nothere.png 0\n";
    e = error_of([&] { scan_image_folder(dir.path.string(), "l_{split}.txt"); });
    EXPECT_NE(e.find("nothere.png not found"), std::string::npos) << e;
}

TEST(StreamingImageDataset, BoundedCacheBackgroundDecodingAndErrors) {
    TempDir dir("data-io-stream");
    std::vector<ImageEntry> entries;
    for (int i = 0; i < 6; ++i) {
        const fs::path p = dir.path / ("i" + std::to_string(i) + ".png");
        write_png(p, gradient(16, 12, 3, i * 10));
        entries.push_back({p.string(), i % 3});
    }
    StreamingImageOptions o;
    o.workers = 2;
    o.cache_bytes = 3 * 16 * 12 * 3;  // three images
    o.transform.size = 8;
    o.transform.resize_size = 8;
    StreamingImageDataset ds(entries, o);
    std::mt19937_64 rng(1);
    ds.prefetch({0, 1, 2});
    torch::Tensor batch = ds.batch({0, 1, 2}, false, rng);
    EXPECT_EQ(batch.sizes(), (std::vector<int64_t>{3, 3, 8, 8}));
    StreamingImageStats s = ds.stats();
    EXPECT_EQ(s.hits + s.waits + s.misses, 3);
    EXPECT_EQ(s.background_decodes + s.misses, 3);
    EXPECT_LE(s.cached_bytes, o.cache_bytes);
    // the same images decode to the same tensors, cached or not
    StreamingImageOptions plain = o;
    plain.workers = 0;
    StreamingImageDataset direct(entries, plain);
    EXPECT_TRUE(torch::equal(direct.batch({0, 1, 2}, false, rng), batch));
    ds.batch({3, 4, 5}, false, rng);
    s = ds.stats();
    EXPECT_GE(s.evictions, 3);
    EXPECT_LE(s.cached_bytes, o.cache_bytes);
    ds.batch({5}, false, rng);
    EXPECT_EQ(ds.stats().hits, s.hits + 1);
    EXPECT_TRUE(torch::equal(ds.labels({0, 4}), torch::tensor({0, 1}, torch::kInt64)));
    EXPECT_EQ(ds.batch({1, 2}, true, rng).sizes(), (std::vector<int64_t>{2, 3, 8, 8}));

    std::ofstream(entries[2].path, std::ios::trunc) << "\xFF\xD8\xFF broken";
    StreamingImageDataset broken(entries, plain);
    std::string e = error_of([&] { broken.batch({2}, false, rng); });
    EXPECT_NE(e.find("i2.png: corrupt JPEG"), std::string::npos) << e;
}
