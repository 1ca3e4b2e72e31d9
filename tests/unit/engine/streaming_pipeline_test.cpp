// The streaming pipeline the trainer uses for image folders, file lists and CIFAR above 32 px:
// image headers, image stores, StreamedSamples (test transform = the in-memory reference exactly,
// train transform independent of the decoder count, bounded cache, errors naming the file), CIFAR
// resized to 224, and a short experiment from an image folder.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"
#include "engine/config/experiment_config.h"
#include "engine/data/cifar_records.h"
#include "engine/data/domain_transform.h"
#include "engine/data/idx_file.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_folder_index.h"
#include "engine/data/image_header.h"
#include "engine/data/image_store.h"
#include "engine/data/image_transforms.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/stream_data.h"
#include "engine/data/streamed_samples.h"
#include "engine/services/experiment_runner.h"
#include "engine/vocabulary/event_listener.h"

using namespace lorica;
using lorica::testing::error_of;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

DecodedImage pattern(int w, int h, int channels, int seed) {
    DecodedImage img{w, h, channels, std::vector<uint8_t>(static_cast<size_t>(w) * h * channels)};
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            for (int c = 0; c < channels; ++c)
                img.pixels[(static_cast<size_t>(y) * w + x) * channels + c] =
                    static_cast<uint8_t>((x * 7 + y * 3 + c * 50 + seed * 31 + (x * y) % 13) % 256);
    return img;
}

// Images of different sizes and formats (PNG and JPEG, gray and RGB): the entries of one split.
std::vector<ImageEntry> write_images(const fs::path& dir, int count) {
    fs::create_directories(dir);
    std::vector<ImageEntry> entries;
    for (int i = 0; i < count; ++i) {
        const DecodedImage img = pattern(40 + 7 * (i % 4), 36 + 5 * (i % 3), i % 5 == 3 ? 1 : 3, i);
        const bool jpeg = i % 2 == 1;
        const fs::path p = dir / ("img" + std::to_string(i) + (jpeg ? ".jpg" : ".png"));
        write_image_file(p.string(), jpeg ? encode_jpeg(img, 92) : encode_png(img));
        entries.push_back({p.string(), i % 3});
    }
    return entries;
}

std::shared_ptr<const StreamedSplit> make_split(const std::shared_ptr<const ImageStore>& store, int workers,
                                                size_t cache_bytes, int64_t size = 32) {
    StreamingImageOptions options;
    options.channels = store->channels();
    options.cache_bytes = cache_bytes;
    options.workers = 0;
    auto split = std::make_shared<StreamedSplit>();
    split->transform.size = size;
    split->transform.resize_size = size * 8 / 7;
    options.transform = split->transform;
    split->images = std::make_shared<StreamingImageDataset>(store, options);
    split->pool = std::make_shared<DecodePool>(workers);
    split->channels = store->channels();
    return split;
}

std::vector<int64_t> iota_vector(int64_t n) {
    std::vector<int64_t> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = i;
    return v;
}

const std::vector<double> kMean{0.5, 0.4, 0.3}, kStd{0.25, 0.2, 0.3};

}  // namespace

TEST(ImageHeader, ReadsTheSizeOfPngAndJpegWithoutDecodingAndNamesBadFiles) {
    TempDir dir("header");
    const auto entries = write_images(dir.path / "ok", 6);
    for (const auto& e : entries) {
        const ImageHeader h = read_image_header(e.path);
        const DecodedImage d = decode_image_file(e.path);
        EXPECT_EQ(h.width, d.width) << e.path;
        EXPECT_EQ(h.height, d.height) << e.path;
        EXPECT_EQ(h.channels, d.channels) << e.path;
    }
    const fs::path bad_png = dir.path / "bad.png", bad_jpeg = dir.path / "bad.jpg", text = dir.path / "notes.png";
    std::ofstream(bad_png, std::ios::binary) << std::string("\x89PNG\r\n\x1a\n", 8) << "not a png body";
    std::ofstream(bad_jpeg, std::ios::binary) << std::string("\xff\xd8\xff\xe0", 4) << "not a jpeg body";
    std::ofstream(text, std::ios::binary) << "hello";
    for (const fs::path& p : {bad_png, bad_jpeg, text, dir.path / "missing.jpg"})
        EXPECT_NE(error_of([&] { read_image_header(p.string()); }).find(p.string()), std::string::npos) << p;
}

TEST(StreamedSamples, TestTransformEqualsTheInMemoryReferenceExactly) {
    TempDir dir("stream-exact");
    const auto entries = write_images(dir.path, 9);
    auto store = std::make_shared<const FileImageStore>(entries, 3);
    // The reference: every image decoded here, test transform, stacked, domain, (x − mean) / std.
    ImageTransformOptions t;
    t.size = 32;
    t.resize_size = 36;
    std::vector<torch::Tensor> items;
    for (const auto& e : entries)
        items.push_back(test_transform(image_to_tensor(convert_channels(decode_image_file(e.path), 3)), t));
    const std::vector<int> permutation{3, 1, 2, 0, 7, 5, 6, 4, 11, 9, 10, 8, 15, 13, 14, 12};
    for (const std::string domain : {"identity", "rot90", "invert", "patch_permute"}) {
        torch::Tensor reference = apply_domain_transform(torch::stack(items), domain, permutation);
        reference = (reference - torch::tensor(kMean, torch::kFloat32).view({1, 3, 1, 1})) /
                    torch::tensor(kStd, torch::kFloat32).view({1, 3, 1, 1});
        TensorSamples in_memory(reference.contiguous());
        for (int workers : {0, 2}) {
            StreamedSamples streamed(make_split(store, workers, 1u << 20), iota_vector(9),
                                     SampleNormalisation{domain, permutation, kMean, kStd});
            ASSERT_EQ(streamed.size(), 9);
            const torch::Tensor order = torch::tensor(std::vector<int64_t>{4, 0, 8, 2, 2, 7}, torch::kInt64);
            const torch::Tensor a = streamed.batch(order, BatchMode::test, 0);
            EXPECT_EQ(a.sizes(), (std::vector<int64_t>{6, 3, 32, 32}));
            EXPECT_TRUE(torch::equal(a, in_memory.batch(order, BatchMode::test, 0)))
                << domain << ", " << workers << " workers";
            // Planned batches (computed ahead on the pool) are the same values.
            std::vector<torch::Tensor> batches{index_range(0, 4), index_range(4, 9)};
            streamed.plan(batches, BatchMode::test, 0);
            EXPECT_TRUE(torch::equal(streamed.batch(batches[0], BatchMode::test, 0), reference.slice(0, 0, 4)));
            EXPECT_TRUE(torch::equal(streamed.batch(batches[1], BatchMode::test, 0), reference.slice(0, 4, 9)));
        }
    }
}

TEST(StreamedSamples, TrainBatchesDependOnlyOnIndicesAndSeedNotOnDecoderCount) {
    TempDir dir("stream-train");
    const auto entries = write_images(dir.path, 12);
    auto store = std::make_shared<const FileImageStore>(entries, 3);
    const std::vector<torch::Tensor> batches{torch::tensor(std::vector<int64_t>{5, 1, 9, 0}, torch::kInt64),
                                             torch::tensor(std::vector<int64_t>{11, 3, 7, 2}, torch::kInt64),
                                             torch::tensor(std::vector<int64_t>{4, 6, 8, 10}, torch::kInt64)};
    std::vector<std::vector<torch::Tensor>> runs;
    for (int workers : {0, 1, 3}) {
        // A cache too small for the set: images are decoded again, in whatever order the threads run.
        StreamedSamples s(make_split(store, workers, 20'000), iota_vector(12),
                          SampleNormalisation{"rot180", {}, kMean, kStd});
        s.plan(batches, BatchMode::train, 77);
        std::vector<torch::Tensor> got;
        for (const auto& b : batches) got.push_back(s.batch(b, BatchMode::train, 77));
        got.push_back(s.batch(batches[0], BatchMode::train, 77));  // off plan, computed on demand
        got.push_back(s.batch(batches[0], BatchMode::train, 78));  // another epoch's seed
        runs.push_back(got);
    }
    for (size_t r = 1; r < runs.size(); ++r)
        for (size_t k = 0; k < runs[0].size(); ++k)
            EXPECT_TRUE(torch::equal(runs[0][k], runs[r][k])) << "run " << r << " batch " << k;
    EXPECT_TRUE(torch::equal(runs[0][0], runs[0][3]));   // same indices and seed: the same crops and flips
    EXPECT_FALSE(torch::equal(runs[0][3], runs[0][4]));  // a new seed: new crops
    // A sample's crop is its own: sample 5 in another batch position, with the same seed, is identical.
    StreamedSamples s(make_split(store, 2, 1u << 20), iota_vector(12), SampleNormalisation{"rot180", {}, kMean, kStd});
    const torch::Tensor alone = s.batch(torch::tensor(std::vector<int64_t>{0, 5}, torch::kInt64), BatchMode::train, 77);
    EXPECT_TRUE(torch::equal(alone[1], runs[0][0][0]));
    EXPECT_TRUE(torch::equal(alone[1], s.sample(5, BatchMode::train, 77)));
    // The train transform is not the test transform (a random crop of an uneven pattern).
    EXPECT_FALSE(
        torch::equal(alone[1], s.batch(torch::tensor(std::vector<int64_t>{5}, torch::kInt64), BatchMode::test, 0)[0]));
    EXPECT_LT(alone.abs().max().item<double>(), 5.0);  // normalised pixels of [0, 1] images
}

TEST(StreamedSamples, TheDecodedImageCacheStaysWithinItsBound) {
    TempDir dir("stream-cache");
    const auto entries = write_images(dir.path, 20);
    auto store = std::make_shared<const FileImageStore>(entries, 3);
    size_t largest = 0, total = 0;
    for (int64_t i = 0; i < store->size(); ++i) {
        const size_t bytes = store->load(i).pixels.size();
        largest = std::max(largest, bytes);
        total += bytes;
    }
    const size_t bound = 3 * largest;  // about 3 of 20 images
    auto split = make_split(store, 3, bound);
    StreamedSamples s(split, iota_vector(20), SampleNormalisation{});
    for (int epoch = 0; epoch < 3; ++epoch)
        for (int64_t start = 0; start < 20; start += 5) {
            (void)s.batch(index_range(start, start + 5), BatchMode::train, epoch);
            EXPECT_LE(split->images->stats().cached_bytes, bound);
        }
    const StreamingImageStats stats = split->images->stats();
    EXPECT_GT(total, bound);
    EXPECT_GT(stats.evictions, 0);
    EXPECT_GT(stats.cached_bytes, 0u);
    EXPECT_LE(stats.cached_bytes, bound);
}

TEST(StreamedSamples, ADecodeErrorNamesTheFile) {
    TempDir dir("stream-error");
    auto entries = write_images(dir.path, 4);
    // A good JPEG header (it passes preflight's header check) on a body that cannot be decoded.
    const std::string good = [&] {
        std::ifstream in(entries[1].path, std::ios::binary);
        return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    }();
    const fs::path broken = dir.path / "broken.jpg";
    std::ofstream(broken, std::ios::binary) << good.substr(0, good.size() / 2) << std::string(64, '\x00') << "\xff\xd9";
    EXPECT_NO_THROW(read_image_header(broken.string()));
    entries.push_back({broken.string(), 0});
    auto store = std::make_shared<const FileImageStore>(entries, 3);
    for (int workers : {0, 2}) {
        StreamedSamples s(make_split(store, workers, 1u << 20), iota_vector(5), SampleNormalisation{});
        std::vector<torch::Tensor> batches{index_range(0, 2), index_range(2, 5)};
        s.plan(batches, BatchMode::train, 1);
        EXPECT_NO_THROW(s.batch(batches[0], BatchMode::train, 1));
        bool data_error = false;
        std::string message;
        try {
            (void)s.batch(batches[1], BatchMode::train, 1);
        } catch (const DataError& e) {
            data_error = true;
            message = e.what();
        }
        if (!data_error) {
            // libjpeg may accept a damaged body with a warning; then the image must at least decode.
            EXPECT_NO_THROW(decode_image_file(broken.string()));
            continue;
        }
        EXPECT_NE(message.find(broken.string()), std::string::npos) << message;
    }
    // A file that vanished after the scan: the error names it.
    const fs::path gone = dir.path / "img0.png";
    fs::remove(gone);
    StreamedSamples s(make_split(store, 1, 1u << 20), iota_vector(5), SampleNormalisation{});
    const std::string message = error_of([&] { s.batch(index_range(0, 1), BatchMode::test, 0); });
    EXPECT_NE(message.find(gone.string()), std::string::npos) << message;
}

TEST(StreamedSamples, CifarIsStreamedAt224FromItsThirtyTwoPixelRecords) {
    TempDir dir("cifar224");
    // CIFAR-10 layout: 5 training batches and a test batch; record r of class r % 10 is one colour.
    auto write = [&](const fs::path& p, int records, int offset) {
        std::ofstream out(p, std::ios::binary);
        for (int r = 0; r < records; ++r) {
            out.put(static_cast<char>(r % 10));
            for (int c = 0; c < 3; ++c)
                for (int px = 0; px < 1024; ++px) out.put(static_cast<char>((r + offset) * 20 % 200 + c * 25));
        }
    };
    for (int b = 1; b <= 5; ++b) write(dir.path / ("data_batch_" + std::to_string(b) + ".bin"), 20, b);
    write(dir.path / "test_batch.bin", 20, 0);
    ExperimentConfig config;
    config.data.dataset = DatasetId::cifar10;
    config.data.root = dir.path.string();
    config.data.normalize_mean = {};
    config.data.normalize_std = {};
    config.data.train_per_class = 4;
    config.data.test_per_class = 2;
    config.data.workers = 2;
    config.foundation.enabled = false;
    config.backbone.image_size = 224;
    config.backbone.patch_size = 32;
    config.backbone.in_channels = 3;
    config.stream.tasks = 2;
    config.stream.domains = {DomainTransform::identity};
    const RawDataset raw = load_raw_dataset(config);
    ASSERT_TRUE(raw.streamed());
    EXPECT_FALSE(raw.train_images.defined());  // nothing is held at 224
    EXPECT_EQ(raw.train_labels.size(0), 100);
    const StreamData data = build_stream_data(config, raw, 0);
    ASSERT_EQ(data.tasks.size(), 2u);
    const LabeledImages& test = data.tasks[0].test;
    const torch::Tensor x = test.samples->batch(index_range(0, test.size()), BatchMode::test, 0);
    EXPECT_EQ(x.sizes(), (std::vector<int64_t>{test.size(), 3, 224, 224}));
    // A one-colour 32 × 32 image resized to 224 stays that colour (bicubic of a constant), exactly
    // to float rounding; the test split's record r has colour (r · 20 mod 200 + 25 c) / 255.
    const torch::Tensor labels = test.labels;
    for (int64_t k = 0; k < test.size(); ++k) {
        // test records of class l: r = l, l + 10 → find r by value of channel 0 instead.
        const double v0 = x[k][0].mean().item<double>();
        for (int c = 0; c < 3; ++c) {
            EXPECT_NEAR(x[k][c].min().item<double>(), v0 + c * 25.0 / 255.0, 1e-5);
            EXPECT_NEAR(x[k][c].max().item<double>(), v0 + c * 25.0 / 255.0, 1e-5);
        }
        const int64_t r = std::lround(v0 * 255.0 / 20.0);
        EXPECT_EQ(r % 10, labels[k].item<int64_t>());
    }
    const LabeledImages& train = data.tasks[1].train;
    const torch::Tensor y = train.samples->batch(index_range(0, 3), BatchMode::train, 5);
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{3, 3, 224, 224}));
    EXPECT_GE(y.min().item<double>(), 0.0);
    EXPECT_LE(y.max().item<double>(), 1.0);
    // At the native 32 px CIFAR stays in memory, as before.
    config.backbone.image_size = 32;
    config.backbone.patch_size = 8;
    EXPECT_FALSE(load_raw_dataset(config).streamed());
}

TEST(StreamedSamples, AShortExperimentRunsFromAnImageFolderTheSameForAnyDecoderCount) {
    TempDir dir("stream-e2e");
    // root/<class>/<image>: 4 classes × 10 images of varying sizes (every 5th is a test image).
    for (int c = 0; c < 4; ++c)
        for (int i = 0; i < 10; ++i) {
            const DecodedImage img = pattern(36 + 4 * (i % 3), 40 + 3 * (i % 2), 3, c * 17 + i);
            const fs::path p = dir.path / "images" / ("class" + std::to_string(c)) /
                               ("img" + std::to_string(i) + (i % 2 ? ".jpg" : ".png"));
            fs::create_directories(p.parent_path());
            write_image_file(p.string(), i % 2 ? encode_jpeg(img) : encode_png(img));
        }
    auto run = [&](int workers) {
        nlohmann::json doc = {
            {"name", "stream"},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", (dir.path / "cache").string()},
            {"data",
             {{"dataset", "image-folder"},
              {"root", (dir.path / "images").string()},
              {"train_per_class", 8},
              {"test_per_class", 2},
              {"normalize_mean", kMean},
              {"normalize_std", kStd},
              {"workers", workers},
              {"cache_mb", 1}}},
            {"foundation", {{"enabled", false}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"backbone",
             {{"image_size", 32}, {"patch_size", 8}, {"in_channels", 3}, {"dim", 32}, {"depth", 2}, {"heads", 2}}},
            {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}},
            {"train", {{"epochs", 2}, {"batch_size", 4}, {"max_steps_per_task", 5}}},
            {"eval", {{"batch_size", 3}, {"random_init", false}}}};
        ExperimentConfig config = parse_experiment_config(doc);
        EventRecorder events;
        CancelToken cancel;
        EXPECT_EQ(run_experiment(config, events, cancel), RunStatus::finished);
        std::vector<double> losses;
        std::vector<int64_t> correct;
        for (const auto& e : events.events()) {
            if (auto* s = std::get_if<StepMetrics>(&e)) losses.push_back(s->loss);
            if (auto* d = std::get_if<EvaluationDone>(&e))
                for (const auto& r : d->rows) correct.push_back(r.correct * 1000 + r.total);
            if (auto* f = std::get_if<RunFinished>(&e)) EXPECT_EQ(f->message, "");
        }
        return std::make_pair(losses, correct);
    };
    const auto one = run(1), three = run(3);
    EXPECT_EQ(one.first.size(), 10u);  // 2 tasks × 5 steps (max_steps_per_task)
    EXPECT_FALSE(one.second.empty());
    EXPECT_EQ(one.first, three.first);    // bit-identical losses
    EXPECT_EQ(one.second, three.second);  // and accuracy rows
    for (double l : one.first) EXPECT_TRUE(std::isfinite(l));
}

TEST(StreamedSamples, WorkersAndCacheAreConfigFieldsOutsideTheDefaultEffectiveConfig) {
    const nlohmann::json defaults = to_json(parse_experiment_config(nlohmann::json::object()));
    EXPECT_FALSE(defaults["data"].contains("workers"));  // the default experiment's config and hash stay as they were
    EXPECT_FALSE(defaults["data"].contains("cache_mb"));
    const ExperimentConfig set = parse_experiment_config({{"data", {{"workers", 3}, {"cache_mb", 256}}}});
    EXPECT_EQ(set.data.workers, 3);
    EXPECT_EQ(set.data.cache_mb, 256);
    const ExperimentConfig again = parse_experiment_config(to_json(set));
    EXPECT_EQ(again.data.workers, 3);
    EXPECT_EQ(again.data.cache_mb, 256);
    for (const auto& [field, value] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"workers", -1}, {"workers", 1000}, {"cache_mb", -5}, {"workers", "many"}}) {
        try {
            (void)parse_experiment_config({{"data", {{field, value}}}});
            ADD_FAILURE() << field << " = " << value.dump() << " was accepted";
        } catch (const ConfigError& e) {
            EXPECT_EQ(e.field(), "data." + field);
        }
    }
    EXPECT_EQ(resolve_data_workers(5), 5);
    EXPECT_GE(resolve_data_workers(0), 1);
}
