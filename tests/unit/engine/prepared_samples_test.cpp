// Prepared samples (engine/data/prepared/prepared_samples.h, prepared_crop.h): the crop kernels
// against the float kernels of the decode path, the batches of a prepared image folder against the
// decode path's (test: equal up to the 8-bit rounding; train: the same boxes and flips, close
// pixels), independent of the worker count and the plan, on any device, and data.prepared wired
// into build_stream_data.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"
#include "engine/config/experiment_config.h"
#include "engine/data/image_decode.h"
#include "engine/data/image_transforms.h"
#include "engine/data/prepared/prepared_crop.h"
#include "engine/data/prepared/prepared_samples.h"
#include "engine/data/prepared/prepared_sources.h"
#include "engine/data/prepared/prepared_writer.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/stream_data.h"
#include "engine/services/experiment_runner.h"
#include "engine/vocabulary/event_listener.h"

using namespace lorica;
using lorica::testing::error_of;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Smooth, asymmetric content (a flip or a shifted box shows): red rises left to right, green top to
// bottom, blue a slow wave; `seed` shifts the phases.
DecodedImage prepared_test_gradient(int w, int h, int seed) {
    DecodedImage img{w, h, 3, std::vector<uint8_t>(static_cast<size_t>(w) * h * 3)};
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            uint8_t* p = &img.pixels[(static_cast<size_t>(y) * w + x) * 3];
            p[0] = static_cast<uint8_t>(std::lround(20.0 + 215.0 * x / (w - 1)));
            p[1] = static_cast<uint8_t>(std::lround(30.0 + 200.0 * y / (h - 1)));
            p[2] = static_cast<uint8_t>(std::lround(128.0 + 100.0 * std::sin((x + 2.0 * y + 9.0 * seed) / 11.0)));
        }
    return img;
}

torch::Tensor prepared_test_hwc(const DecodedImage& img) {
    return torch::from_blob(const_cast<uint8_t*>(img.pixels.data()), {img.height, img.width, img.channels},
                            torch::kUInt8)
        .clone();
}

PreparedImage prepared_test_view(const torch::Tensor& hwc, int64_t source_h = 0, int64_t source_w = 0) {
    return PreparedImage{
        hwc.data_ptr<uint8_t>(),          hwc.size(0), hwc.size(1), hwc.size(2), source_h ? source_h : hwc.size(0),
        source_w ? source_w : hwc.size(1)};
}

// uint8 [S, S, C] → float [C, S, S] in [0, 1].
torch::Tensor prepared_test_unit(const torch::Tensor& hwc) {
    return hwc.permute({2, 0, 1}).to(torch::kFloat32).div(255.0f);
}

// An image folder root/<class>/<image>.png of 4 classes × 5 gradients of varying sizes (every 5th
// image of a class is a test image) and the config of a 2-task stream over it at 32 px (resize 36).
nlohmann::json prepared_test_folder(const fs::path& root, int workers) {
    for (int c = 0; c < 4; ++c)
        for (int i = 0; i < 5; ++i) {
            const int w = 45 + 11 * ((c + i) % 3), h = 40 + 13 * (i % 2);
            const fs::path p = root / ("class" + std::to_string(c)) / ("img" + std::to_string(i) + ".png");
            fs::create_directories(p.parent_path());
            write_image_file(p.string(), encode_png(prepared_test_gradient(w, h, c * 5 + i)));
        }
    return {{"name", "prepared"},
            {"device", "cpu"},
            {"threads", 1},
            {"data",
             {{"dataset", "image-folder"},
              {"root", root.string()},
              {"train_per_class", 4},
              {"test_per_class", 1},
              {"normalize_mean", {0.0, 0.0, 0.0}},  // batches in pixel units: Δ is a pixel difference
              {"normalize_std", {1.0, 1.0, 1.0}},
              {"workers", workers}}},
            {"foundation", {{"enabled", false}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"backbone",
             {{"image_size", 32}, {"patch_size", 8}, {"in_channels", 3}, {"dim", 32}, {"depth", 2}, {"heads", 2}}},
            {"method", {{"name", "sequential-lora"}, {"rank", 2}, {"alpha", 2.0}}}};
}

PrepareSummary prepared_test_prepare(const ExperimentConfig& config, const RawDataset& raw, const fs::path& dir) {
    PrepareOptions options;
    options.transform = prepared_transform(config);
    return prepare_images(dir.string(), prepared_sources(config, raw), options);
}

}  // namespace

TEST(PreparedCrop, MapsASourceBoxOntoTheStoredImageEdgeByEdge) {
    // 500 × 375 stored at 341 × 256: top 100 → round(68.27) = 68, bottom 250 → round(170.67) = 171;
    // left 200 → round(136.4) = 136, right 320 → round(218.24) = 218.
    const CropBox b = map_crop_box({100, 200, 150, 120}, 375, 500, 256, 341);
    EXPECT_EQ(b.top, 68);
    EXPECT_EQ(b.height, 103);
    EXPECT_EQ(b.left, 136);
    EXPECT_EQ(b.width, 82);
    // Same size: the box itself.
    const CropBox same = map_crop_box({3, 4, 10, 20}, 50, 60, 50, 60);
    EXPECT_EQ(std::vector<int64_t>({same.top, same.left, same.height, same.width}),
              std::vector<int64_t>({3, 4, 10, 20}));
    // A one-pixel box at the last row and column of a 100× smaller image: clamped inside, 1 pixel.
    const CropBox tiny = map_crop_box({999, 999, 1, 1}, 1000, 1000, 10, 10);
    EXPECT_EQ(std::vector<int64_t>({tiny.top, tiny.left, tiny.height, tiny.width}), std::vector<int64_t>({9, 9, 1, 1}));
}

TEST(PreparedCrop, CentreCropAndResizeMatchTheFloatKernelsOnTheSamePixels) {
    const torch::Tensor hwc = prepared_test_hwc(prepared_test_gradient(71, 53, 1));
    const PreparedImage image = prepared_test_view(hwc);
    const torch::Tensor unit = prepared_test_unit(hwc);  // what the decode path works on
    // Centre crops, inside and larger than the image (zero padding): exactly the float crop.
    for (int64_t size : {32, 53, 60, 80}) {
        torch::Tensor out = torch::empty({size, size, 3}, torch::kUInt8);
        center_crop_into(image, size, out.data_ptr<uint8_t>());
        EXPECT_TRUE(torch::equal(prepared_test_unit(out), center_crop(unit, size))) << size;
    }
    // Crop + resize, shrinking (antialiased), growing and mixed, flipped or not: the uint8 kernels
    // against resize_bicubic on the same crop, within the fixed-point rounding of the uint8 kernels.
    for (const CropBox box : {CropBox{2, 3, 50, 60}, CropBox{10, 20, 12, 9}, CropBox{0, 0, 53, 20}})
        for (bool flip : {false, true}) {
            torch::Tensor out = torch::empty({32, 32, 3}, torch::kUInt8);
            crop_resize_into(image, box, 32, flip, out.data_ptr<uint8_t>());
            torch::Tensor expected =
                resize_bicubic(unit.narrow(1, box.top, box.height).narrow(2, box.left, box.width), 32, 32);
            if (flip) expected = expected.flip({2});
            const double max_diff = (prepared_test_unit(out) - expected).abs().max().item<double>();
            EXPECT_LE(max_diff, 1.5 / 255) << box.height << "x" << box.width << " flip " << flip;
        }
}

TEST(PreparedCrop, NormalisesThroughTheTableAsTheFormulaOnAnyDevice) {
    const std::vector<double> mean{0.485, 0.456, 0.406}, stdv{0.229, 0.224, 0.225};
    const CropNormaliser normaliser(3, mean, stdv);
    const torch::Tensor crops = torch::randint(0, 256, {2, 8, 8, 3}, torch::kUInt8);
    torch::Tensor by_crop = torch::empty({2, 3, 8, 8});
    for (int64_t k = 0; k < 2; ++k) normaliser(crops[k].data_ptr<uint8_t>(), 64, by_crop[k].data_ptr<float>());
    const torch::Tensor formula = (crops.permute({0, 3, 1, 2}).to(torch::kFloat32) / 255.0f -
                                   torch::tensor(mean).view({1, 3, 1, 1}).to(torch::kFloat32)) /
                                  torch::tensor(stdv).view({1, 3, 1, 1}).to(torch::kFloat32);
    EXPECT_LE((by_crop - formula).abs().max().item<double>(), 1e-6);
    // The batch kernel gathers from the same table: the same bits, on the CPU and on CUDA.
    EXPECT_TRUE(torch::equal(normalise_crops(crops, normaliser.table()), by_crop));
    if (torch::cuda::is_available()) {
        EXPECT_TRUE(torch::equal(normalise_crops(crops.cuda(), normaliser.table()).cpu(), by_crop));
    }
    // Without mean/std: v / 255.
    const CropNormaliser plain(1, {}, {});
    const uint8_t pixels[2] = {0, 255};
    float out[2];
    plain(pixels, 2, out);
    EXPECT_EQ(out[0], 0.0f);
    EXPECT_EQ(out[1], 1.0f);
}

TEST(PreparedSamples, APreparedFolderGivesTheDecodePathsBatchesUpToThe8BitRounding) {
    TempDir dir("prepared-samples");
    ExperimentConfig config = parse_experiment_config(prepared_test_folder(dir.path / "images", 2));
    const RawDataset raw = load_raw_dataset(config);
    const PrepareSummary summary = prepared_test_prepare(config, raw, dir.path / "prepared");
    EXPECT_EQ(summary.images, 20);
    const StreamData plain = build_stream_data(config, raw, 5);
    config.data.prepared = (dir.path / "prepared").string();
    const StreamData prepared = build_stream_data(config, raw, 5);
    ASSERT_EQ(prepared.tasks.size(), 2u);
    for (size_t t = 0; t < 2; ++t) {
        const TaskData& a = plain.tasks[t];
        const TaskData& b = prepared.tasks[t];
        ASSERT_NE(dynamic_cast<PreparedSamples*>(b.train.samples.get()), nullptr);
        ASSERT_NE(dynamic_cast<PreparedSamples*>(b.test.samples.get()), nullptr);
        EXPECT_TRUE(torch::equal(a.train.labels, b.train.labels));
        EXPECT_TRUE(torch::equal(a.test.labels, b.test.labels));
        // Test: the stored image is the float resize rounded to 8 bits, the centre crop a copy of it.
        const torch::Tensor all_test = index_range(0, a.test.size());
        const double test_diff =
            (a.test.samples->batch(all_test, BatchMode::test, 0) - b.test.samples->batch(all_test, BatchMode::test, 0))
                .abs()
                .max()
                .item<double>();
        EXPECT_LE(test_diff, 0.5 / 255 + 1e-6) << "task " << t;
        // Train: the same boxes and flips, pixels resampled from the stored image instead of the
        // source. The box edges are rounded to whole stored pixels (≤ 0.5 stored px ≈ 0.9 source px
        // here) on gradients of up to ~5 levels per source px: measured per sample mean |Δ| ≤ 4.2/255
        // (batch mean ≤ 2.1/255), max |Δ| ≤ 21/255. The same crops mirrored are ~50/255 off (~25× the
        // batch mean): a flip or a box drawn otherwise shows.
        const torch::Tensor all_train = index_range(0, a.train.size());
        for (uint64_t seed : {3u, 11u}) {
            const torch::Tensor x = a.train.samples->batch(all_train, BatchMode::train, seed);
            const torch::Tensor y = b.train.samples->batch(all_train, BatchMode::train, seed);
            const torch::Tensor per_sample = (x - y).abs().mean({1, 2, 3});
            EXPECT_LE(per_sample.max().item<double>(), 6.0 / 255) << "task " << t << " seed " << seed;
            EXPECT_LE((x - y).abs().max().item<double>(), 32.0 / 255) << "task " << t << " seed " << seed;
            const double mirrored = (x - y.flip({3})).abs().mean().item<double>();
            EXPECT_GE(mirrored, 5 * (x - y).abs().mean().item<double>()) << "task " << t << " seed " << seed;
            std::printf(
                "[ measured ] task %zu seed %llu: test max |d| %.3f/255; train mean |d| %.3f/255, worst "
                "sample %.3f/255, max %.2f/255, mirrored %.2f/255\n",
                t, static_cast<unsigned long long>(seed), 255 * test_diff, 255 * (x - y).abs().mean().item<double>(),
                255 * per_sample.max().item<double>(), 255 * (x - y).abs().max().item<double>(), 255 * mirrored);
        }
    }
}

TEST(PreparedSamples, BatchesDependOnlyOnIndicesModeAndSeedNotOnWorkersOrThePlan) {
    TempDir dir("prepared-workers");
    ExperimentConfig config = parse_experiment_config(prepared_test_folder(dir.path / "images", 1));
    const RawDataset raw = load_raw_dataset(config);
    prepared_test_prepare(config, raw, dir.path / "prepared");
    const auto images =
        PreparedImages::open((dir.path / "prepared").string(), *raw.train_store, prepared_transform(config));
    const std::vector<torch::Tensor> batches{torch::tensor(std::vector<int64_t>{5, 1, 9, 0}, torch::kInt64),
                                             torch::tensor(std::vector<int64_t>{11, 3, 7, 2}, torch::kInt64),
                                             torch::tensor(std::vector<int64_t>{4, 6, 8, 10}, torch::kInt64)};
    std::vector<int64_t> members(12);
    for (int64_t i = 0; i < 12; ++i) members[static_cast<size_t>(i)] = i;
    for (const std::string domain : {"identity", "rot90"}) {
        std::vector<std::vector<torch::Tensor>> runs;
        for (int workers : {0, 1, 3}) {
            auto split = std::make_shared<PreparedSplit>();
            split->images = images;
            split->pool = std::make_shared<DecodePool>(workers);
            split->transform.size = 32;
            PreparedSamples s(split, members, SampleNormalisation{domain, {}, {0.5, 0.4, 0.3}, {0.25, 0.2, 0.3}});
            s.plan(batches, BatchMode::train, 77);
            std::vector<torch::Tensor> got;
            for (const auto& b : batches) got.push_back(s.batch(b, BatchMode::train, 77));
            got.push_back(s.batch(batches[0], BatchMode::train, 77));  // off plan
            got.push_back(s.batch(batches[0], BatchMode::train, 78));  // another seed
            got.push_back(s.batch(batches[1], BatchMode::test, 0));
            // Planned for a device, asked for on the CPU: normalised here, the same values.
            got.push_back(s.batch_on(batches[2], BatchMode::train, 5, torch::kCPU));
            if (torch::cuda::is_available()) {
                s.plan(batches, BatchMode::train, 5);
                const torch::Tensor on_gpu = s.batch_on(batches[0], BatchMode::train, 5, torch::kCUDA).cpu();
                EXPECT_TRUE(torch::equal(on_gpu, s.batch(batches[0], BatchMode::train, 5))) << domain;
                (void)s.batch_on(batches[1], BatchMode::train, 5, torch::kCUDA);  // planned with uint8 only
                EXPECT_TRUE(torch::equal(s.batch(batches[2], BatchMode::train, 5), got.back())) << domain;
            }
            runs.push_back(got);
        }
        for (size_t r = 1; r < runs.size(); ++r)
            for (size_t k = 0; k < runs[0].size(); ++k)
                EXPECT_TRUE(torch::equal(runs[0][k], runs[r][k])) << domain << " run " << r << " batch " << k;
        EXPECT_TRUE(torch::equal(runs[0][0], runs[0][3]));
        EXPECT_FALSE(torch::equal(runs[0][3], runs[0][4]));
        // Batches let go of lend their buffers to the next ones: the values stay those of fresh buffers.
        auto split = std::make_shared<PreparedSplit>();
        split->images = images;
        split->pool = std::make_shared<DecodePool>(1);
        split->transform.size = 32;
        PreparedSamples reused(split, members, SampleNormalisation{domain, {}, {0.5, 0.4, 0.3}, {0.25, 0.2, 0.3}});
        for (int epoch = 0; epoch < 3; ++epoch) {
            reused.plan(batches, BatchMode::train, 77);
            for (size_t k = 0; k < batches.size(); ++k)
                EXPECT_TRUE(torch::equal(reused.batch(batches[k], BatchMode::train, 77), runs[0][k]))
                    << domain << " epoch " << epoch << " batch " << k;
        }
        EXPECT_EQ(runs[0][0].sizes(), (std::vector<int64_t>{4, 3, 32, 32}));
    }
}

TEST(PreparedSamples, AShortExperimentRunsFromAPreparedFolderTheSameForAnyWorkerCount) {
    TempDir dir("prepared-run");
    nlohmann::json doc = prepared_test_folder(dir.path / "images", 1);
    const ExperimentConfig plain = parse_experiment_config(doc);
    prepared_test_prepare(plain, load_raw_dataset(plain), dir.path / "prepared");
    auto run = [&](int workers) {
        doc["data"]["workers"] = workers;
        doc["data"]["prepared"] = (dir.path / "prepared").string();
        doc["cache_dir"] = (dir.path / "cache").string();
        doc["train"] = {{"epochs", 2}, {"batch_size", 4}, {"max_steps_per_task", 3}};
        doc["eval"] = {{"batch_size", 3}, {"random_init", false}};
        const ExperimentConfig config = parse_experiment_config(doc);
        EventRecorder events;
        CancelToken cancel;
        EXPECT_EQ(run_experiment(config, events, cancel), RunStatus::finished);
        std::vector<double> losses;
        std::vector<int64_t> correct;
        for (const auto& e : events.events()) {
            if (auto* s = std::get_if<StepMetrics>(&e)) losses.push_back(s->loss);
            if (auto* d = std::get_if<EvaluationDone>(&e))
                for (const auto& r : d->rows) correct.push_back(r.correct * 1000 + r.total);
            if (auto* f = std::get_if<RunFinished>(&e)) {
                EXPECT_EQ(f->message, "");
            }
        }
        return std::make_pair(losses, correct);
    };
    const auto one = run(1), three = run(3);
    EXPECT_EQ(one.first.size(), 6u);  // 2 tasks × 3 steps
    EXPECT_FALSE(one.second.empty());
    EXPECT_EQ(one.first, three.first);  // bit-identical losses and accuracy rows
    EXPECT_EQ(one.second, three.second);
    for (double l : one.first) EXPECT_TRUE(std::isfinite(l));
}

TEST(PreparedSamples, DataPreparedOnAnInMemoryDataSetIsAConfigError) {
    nlohmann::json doc = {{"data",
                           {{"dataset", "fashion-mnist"},
                            {"train_per_class", 2},
                            {"test_per_class", 1},
                            {"prepared", "/nowhere/prepared"}}},
                          {"foundation", {{"enabled", false}}},
                          {"stream", {{"tasks", 2}, {"classes_per_task", 2}}}};
    const ExperimentConfig config = parse_experiment_config(doc);
    RawDataset raw;  // held in memory: 4 classes × 3 images of 8 × 8
    raw.name = "fashion-mnist";
    raw.num_classes = 4;
    raw.channels = 1;
    raw.train_images = torch::zeros({12, 1, 8, 8}, torch::kUInt8);
    raw.test_images = torch::zeros({12, 1, 8, 8}, torch::kUInt8);
    raw.train_labels = torch::arange(12, torch::kInt64).remainder(4);
    raw.test_labels = raw.train_labels.clone();
    raw.class_names = {"a", "b", "c", "d"};
    const std::string error = error_of([&] { (void)build_stream_data(config, raw, 0); });
    EXPECT_NE(error.find("data.prepared"), std::string::npos) << error;
    EXPECT_NE(error.find("held in memory"), std::string::npos) << error;
}
