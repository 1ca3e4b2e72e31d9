// Prepared data sets (engine/data/prepared/): what the writer stores is what the decode path's resize
// gives, an interrupted prepare continues to the same bytes, and damaged or foreign folders are
// refused with errors naming the file or the field.

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "engine/config/experiment_config.h"
#include "engine/data/data_error.h"
#include "engine/data/image_store.h"
#include "engine/data/image_transforms.h"
#include "engine/data/prepared/prepared_images.h"
#include "engine/data/prepared/prepared_sources.h"
#include "engine/data/prepared/prepared_writer.h"
#include "engine/data/raw_dataset.h"
#include "engine/services/data_preparation.h"
#include "tests/support/class_folders.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/error_of.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// An RGB image of `height` × `width` with a pattern from `seed`.
DecodedImage prepared_test_image(int height, int width, int seed) {
    DecodedImage img;
    img.height = height;
    img.width = width;
    img.channels = 3;
    img.pixels.resize(static_cast<size_t>(height * width * 3));
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            for (int c = 0; c < 3; ++c)
                img.pixels[static_cast<size_t>((y * width + x) * 3 + c)] =
                    static_cast<uint8_t>((x * 37 + y * 11 + c * 71 + seed * 53 + (x * y) % 7) % 256);
    return img;
}

// `n` files under root/images: PNG and JPEG, landscape, portrait and square, several sizes.
std::shared_ptr<const FileImageStore> write_prepared_test_images(const fs::path& root, int n, int salt = 0) {
    fs::create_directories(root / "images");
    std::vector<ImageEntry> entries;
    for (int i = 0; i < n; ++i) {
        const int h = 9 + (i * 5) % 11, w = 7 + (i * 3) % 13;
        const DecodedImage img = prepared_test_image(h, w, i + salt);
        const bool png = i % 2 == 0;
        const fs::path path = root / "images" / (std::to_string(i) + (png ? ".png" : ".jpg"));
        write_image_file(path.string(), png ? encode_png(img) : encode_jpeg(img, 95));
        entries.push_back({path.string(), 0});
    }
    return std::make_shared<const FileImageStore>(entries, 3, root.string());
}

PrepareOptions small_options(int64_t resize_size, int64_t per_shard = 4) {
    PrepareOptions o;
    o.transform.resize_size = resize_size;
    o.workers = 2;
    o.images_per_shard = per_shard;
    return o;
}

std::map<std::string, std::string> files_of(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file()) {
            std::ifstream in(e.path(), std::ios::binary);
            out[fs::relative(e.path(), dir).string()] =
                std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
    return out;
}

fs::path only_set_folder(const fs::path& dir) {
    for (const auto& e : fs::directory_iterator(dir))
        if (e.is_directory() && e.path().filename().string().rfind("set-", 0) == 0) return e.path();
    ADD_FAILURE() << "no set folder in " << dir;
    return {};
}

std::string config_error_field(const std::function<void()>& fn) {
    try {
        fn();
    } catch (const ConfigError& e) {
        return e.field();
    } catch (const std::exception& e) {
        return std::string("not a ConfigError: ") + e.what();
    }
    return "no error";
}

TEST(PreparedImages, StoresTheDecodePathsResizeRoundedToEightBits) {
    TempDir tmp("prepared");
    auto store = write_prepared_test_images(tmp.path / "data", 7);
    for (int64_t size : {8, 16}) {  // shrinking (antialiased) and enlarging
        const fs::path dir = tmp.path / ("prepared-" + std::to_string(size));
        const PrepareSummary summary = prepare_images(dir.string(), {{store, "tiny"}}, small_options(size, 3));
        EXPECT_EQ(summary.images, 7);
        EXPECT_EQ(summary.images_written, 7);
        auto images = PreparedImages::open(dir.string(), *store, PreparedTransform{size});
        ASSERT_EQ(images->size(), 7);
        EXPECT_EQ(images->channels(), 3);
        int64_t bytes = 0;
        for (int64_t i = 0; i < 7; ++i) {
            const DecodedImage decoded = store->load(i);
            const torch::Tensor expected = resize_shorter_side(image_to_tensor(decoded), size).mul(255.0f);
            const PreparedImage im = images->image(i);
            EXPECT_EQ(im.source_height, decoded.height);
            EXPECT_EQ(im.source_width, decoded.width);
            EXPECT_EQ(std::min(im.height, im.width), size);
            ASSERT_EQ(im.height, expected.size(1));
            ASSERT_EQ(im.width, expected.size(2));
            const torch::Tensor stored =
                torch::from_blob(const_cast<uint8_t*>(im.pixels), {im.height, im.width, 3}, torch::kUInt8)
                    .permute({2, 0, 1})
                    .to(torch::kFloat32);
            EXPECT_LE((stored - expected).abs().max().item<float>(), 1.0f) << "image " << i << " at " << size;
            bytes += im.height * im.width * 3;
        }
        EXPECT_EQ(summary.bytes, bytes);
        EXPECT_NE(images->describe(4).find("shard-00001.u8, image 1"), std::string::npos) << images->describe(4);
    }
}

TEST(PreparedImages, AnInterruptedPrepareContinuesToTheSameBytes) {
    TempDir tmp("prepared");
    auto store = write_prepared_test_images(tmp.path / "data", 10);
    const fs::path whole = tmp.path / "whole", resumed = tmp.path / "resumed";
    prepare_images(whole.string(), {{store, "tiny"}}, small_options(8, 3));

    CancelToken cancel;
    PrepareOptions options = small_options(8, 3);
    options.cancel = &cancel;
    int64_t last_done = 0;
    options.progress = [&](const PrepareProgress& p) {
        EXPECT_EQ(p.total, 10);
        last_done = p.done;
        if (p.done >= 5) cancel.request_cancel();  // inside shard 1 (images 3..5)
    };
    EXPECT_THROW(prepare_images(resumed.string(), {{store, "tiny"}}, options), Cancelled);
    EXPECT_EQ(last_done, 5);
    std::ifstream in(resumed / "prepared.json");
    EXPECT_FALSE(nlohmann::json::parse(in).at("complete").get<bool>());
    EXPECT_NE(testing::error_of([&] {
                  PreparedImages::open(resumed.string(), *store, PreparedTransform{8});
              }).find("not complete"),
              std::string::npos);

    int64_t first_progress = -1;
    PrepareOptions again = small_options(8, 3);
    again.progress = [&](const PrepareProgress& p) {
        if (first_progress < 0) first_progress = p.done;
    };
    const PrepareSummary summary = prepare_images(resumed.string(), {{store, "tiny"}}, again);
    EXPECT_EQ(first_progress, 3);          // shard 0 kept
    EXPECT_EQ(summary.images_written, 7);  // shards 1..3 written
    EXPECT_EQ(files_of(resumed), files_of(whole));
}

TEST(PreparedImages, AnUndecodableImageIsADataErrorNamingItAndTheShardsBeforeItStay) {
    TempDir tmp("prepared");
    auto good = write_prepared_test_images(tmp.path / "data", 6);
    std::vector<ImageEntry> entries = good->entries();
    const fs::path broken = tmp.path / "data" / "images" / "4.png";
    testing::write_text(broken, "\x89PNG not really");
    auto store = std::make_shared<const FileImageStore>(entries, 3, (tmp.path / "data").string());
    const fs::path dir = tmp.path / "prepared";
    try {
        prepare_images(dir.string(), {{store, "tiny"}}, small_options(8, 3));
        ADD_FAILURE() << "an undecodable image was prepared";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find(broken.string()), std::string::npos) << e.what();
    }
    const fs::path set = only_set_folder(dir);
    EXPECT_TRUE(fs::exists(set / "shard-00000.idx"));          // images 0..2
    EXPECT_FALSE(fs::exists(set / "shard-00001.u8"));          // images 3..5: not written,
    EXPECT_FALSE(fs::exists(set / "shard-00001.u8.partial"));  // and nothing half-written left
}

TEST(PreparedImages, ACompleteFolderIsLeftAsItIs) {
    TempDir tmp("prepared");
    auto store = write_prepared_test_images(tmp.path / "data", 5);
    const fs::path dir = tmp.path / "prepared";
    prepare_images(dir.string(), {{store, "tiny"}}, small_options(8));
    const auto before = files_of(dir);
    PrepareOptions verify = small_options(8);
    verify.verify = true;
    const PrepareSummary again = prepare_images(dir.string(), {{store, "tiny"}}, verify);
    EXPECT_EQ(again.images, 5);
    EXPECT_EQ(again.images_written, 0);
    EXPECT_EQ(files_of(dir), before);
}

TEST(PreparedImages, ATruncatedShardIsRefusedAtOpenNamingIt) {
    TempDir tmp("prepared");
    auto store = write_prepared_test_images(tmp.path / "data", 6);
    const fs::path dir = tmp.path / "prepared";
    prepare_images(dir.string(), {{store, "tiny"}}, small_options(8));
    const fs::path shard = only_set_folder(dir) / "shard-00001.u8";
    fs::resize_file(shard, fs::file_size(shard) - 1);
    try {
        PreparedImages::open(dir.string(), *store, PreparedTransform{8});
        ADD_FAILURE() << "a truncated shard was opened";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find(shard.string()), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
    }
}

TEST(PreparedImages, AFlippedByteIsADataErrorOnTheFirstReadOfThatImage) {
    TempDir tmp("prepared");
    auto store = write_prepared_test_images(tmp.path / "data", 6);
    const fs::path dir = tmp.path / "prepared";
    prepare_images(dir.string(), {{store, "tiny"}}, small_options(8));
    const fs::path shard = only_set_folder(dir) / "shard-00000.u8";
    auto images = PreparedImages::open(dir.string(), *store, PreparedTransform{8});
    const PreparedImage second = images->image(1);  // checked before the damage: not read again
    const int64_t offset = second.height * second.width * 3 + 5;
    images.reset();
    {
        std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(offset);
        const char c = static_cast<char>(f.get());
        f.seekp(offset);
        f.put(static_cast<char>(c ^ 0x01));
    }
    images = PreparedImages::open(dir.string(), *store, PreparedTransform{8});
    EXPECT_NO_THROW(images->image(0));
    EXPECT_NO_THROW(images->image(4));
    try {
        images->image(1);
        ADD_FAILURE() << "a damaged image was read";
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find(shard.string() + ", image 1"), std::string::npos) << e.what();
    }
}

TEST(PreparedImages, AFolderOfOtherDataOrAnotherSizeIsRefused) {
    TempDir tmp("prepared");
    auto store = write_prepared_test_images(tmp.path / "data", 5);
    auto other = write_prepared_test_images(tmp.path / "other", 6, 3);
    const fs::path dir = tmp.path / "prepared";
    prepare_images(dir.string(), {{store, "tiny"}}, small_options(8));
    EXPECT_EQ(config_error_field([&] { PreparedImages::open(dir.string(), *other, PreparedTransform{8}); }),
              "data.prepared");
    EXPECT_EQ(config_error_field([&] {
                  prepare_images(dir.string(), {{other, "other"}}, small_options(8));
              }),
              "data.prepared");
    EXPECT_EQ(config_error_field([&] { PreparedImages::open(dir.string(), *store, PreparedTransform{12}); }),
              "data.resize_size");
    EXPECT_EQ(config_error_field([&] {
                  prepare_images(dir.string(), {{store, "tiny"}}, small_options(12));
              }),
              "data.resize_size");
    EXPECT_EQ(config_error_field(
                  [&] { PreparedImages::open((tmp.path / "nothing").string(), *store, PreparedTransform{8}); }),
              "data.prepared");
    // A folder that is not empty and not a prepared folder is never written into.
    EXPECT_EQ(config_error_field([&] {
                  prepare_images((tmp.path / "data").string(), {{store, "tiny"}}, small_options(8));
              }),
              "data.prepared");
}

TEST(PreparedImages, TheFingerprintFollowsTheFilesNotWhereTheDataSetLies) {
    TempDir tmp("prepared");
    auto store = write_prepared_test_images(tmp.path / "data", 4);
    fs::copy(tmp.path / "data", tmp.path / "moved", fs::copy_options::recursive);
    std::vector<ImageEntry> moved_entries = store->entries();
    for (auto& e : moved_entries)
        e.path = (tmp.path / "moved" / fs::path(e.path).lexically_relative(tmp.path / "data")).string();
    const FileImageStore moved(moved_entries, 3, (tmp.path / "moved").string());
    EXPECT_EQ(source_fingerprint(*store), source_fingerprint(moved));
    const FileImageStore fewer({moved_entries.begin(), moved_entries.end() - 1}, 3, (tmp.path / "moved").string());
    EXPECT_NE(source_fingerprint(*store), source_fingerprint(fewer));

    torch::Tensor records = torch::randint(0, 256, {3, 3, 4, 4}, torch::kUInt8);
    const TensorImageStore a(records, 3, "a");
    torch::Tensor changed = records.clone();
    changed[2][1][3][3] = static_cast<uint8_t>(changed[2][1][3][3].item<uint8_t>() ^ 1);
    const TensorImageStore b(changed, 3, "b");
    EXPECT_EQ(source_fingerprint(a).kind, "records");
    EXPECT_NE(source_fingerprint(a), source_fingerprint(b));
    EXPECT_EQ(source_fingerprint(a), source_fingerprint(TensorImageStore(records.clone(), 3, "c")));
}

TEST(PreparedImages, PrepareConfigDataWritesEveryStreamedSplitOnce) {
    TempDir tmp("prepared");
    testing::write_class_folders(tmp.path / "folders", {"a", "b"}, 3, 2);
    ExperimentConfig config;
    config.data.dataset = DatasetId::image_folder;
    config.data.root = (tmp.path / "folders").string();
    config.backbone.image_size = 14;  // resize size 16
    config.backbone.in_channels = 3;
    config.stream.type = StreamType::datasets;
    config.stream.datasets = {DatasetTaskConfig{}, DatasetTaskConfig{}};
    for (auto& entry : config.stream.datasets) {
        entry.dataset = DatasetId::image_folder;
        entry.root = config.data.root;  // listed twice: prepared once
    }
    EXPECT_EQ(resolved_resize_size(config), 16);
    const RawDataset raw = load_raw_dataset(config);
    EXPECT_EQ(prepared_sources(config, raw).size(), 2u);  // its train and test splits

    PrepareOptions options;
    options.workers = 2;
    const PrepareSummary summary = prepare_config_data(config, (tmp.path / "prepared").string(), options);
    EXPECT_EQ(summary.images, 10);
    EXPECT_EQ(summary.images_written, 10);
    for (const RawDataset& task : raw.stream_tasks)
        for (const auto& store : {task.train_store, task.test_store}) {
            auto images = PreparedImages::open((tmp.path / "prepared").string(), *store, prepared_transform(config));
            ASSERT_EQ(images->size(), store->size());
            EXPECT_EQ(images->image(store->size() - 1).height, 16);
        }
}

TEST(PreparedImages, DataHeldInMemoryHasNothingToPrepare) {
    TempDir tmp("prepared");
    testing::write_tiny_fashion_mnist(tmp.path / "fmnist", 2, 2, 1);
    ExperimentConfig config;
    config.data.root = (tmp.path / "fmnist").string();
    const std::string message =
        testing::error_of([&] { prepare_config_data(config, (tmp.path / "prepared").string(), {}); });
    EXPECT_NE(message.find("data.dataset"), std::string::npos) << message;
    EXPECT_NE(message.find("held in memory; nothing to prepare"), std::string::npos) << message;
    EXPECT_FALSE(fs::exists(tmp.path / "prepared"));
}

}  // namespace
}  // namespace lorica
