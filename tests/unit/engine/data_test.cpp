// Data: gzipped IDX files (written by the test: good, truncated, corrupt), domain transforms,
// deterministic batching, and the stream cut from the real Fashion-MNIST.
#include <gtest/gtest.h>

#include <cstdlib>
#include <torch/torch.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "engine/data/batcher.h"
#include "engine/data/domain_transform.h"
#include "engine/data/fashion_mnist.h"
#include "engine/data/idx_file.h"
#include "engine/data/raw_dataset.h"
#include "engine/data/stream_data.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
namespace fs = std::filesystem;

namespace {

using lorica::testing::TempDir;

std::vector<uint8_t> idx_bytes(uint32_t magic, std::vector<uint32_t> dims, const std::vector<uint8_t>& body) {
    std::vector<uint8_t> out;
    auto put = [&](uint32_t v) {
        for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<uint8_t>(v >> s));
    };
    put(magic);
    for (auto d : dims) put(d);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

void write_gz(const fs::path& path, const std::vector<uint8_t>& bytes) {
    gzFile f = gzopen(path.c_str(), "wb");
    gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size()));
    gzclose(f);
}

std::string error_of(const fs::path& path, int dims) {
    try {
        read_idx_file(path.string(), dims);
    } catch (const DataError& e) {
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST(IdxFile, ReadsGzippedImagesAndLabels) {
    TempDir dir;
    std::vector<uint8_t> pixels(2 * 3 * 4);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 7);
    write_gz(dir.path / "images.gz", idx_bytes(0x803, {2, 3, 4}, pixels));
    IdxArray a = read_idx_file((dir.path / "images.gz").string(), 3);
    EXPECT_EQ(a.dims, (std::vector<int64_t>{2, 3, 4}));
    EXPECT_EQ(a.data, pixels);
}

TEST(IdxFile, ErrorsNameTheFileAndTheProblem) {
    TempDir dir;
    const std::vector<uint8_t> body(10, 1);
    write_gz(dir.path / "truncated.gz", idx_bytes(0x801, {12}, body));
    write_gz(dir.path / "trailing.gz", idx_bytes(0x801, {8}, body));
    write_gz(dir.path / "magic.gz", idx_bytes(0x803, {10}, body));
    {
        std::ofstream out(dir.path / "corrupt.gz", std::ios::binary);
        const unsigned char bad[] = {0x1f, 0x8b, 0x08, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x03, 0xff, 0xff, 0x12};
        out.write(reinterpret_cast<const char*>(bad), sizeof bad);
    }
    auto e = error_of(dir.path / "truncated.gz", 1);
    EXPECT_NE(e.find("truncated"), std::string::npos) << e;
    EXPECT_NE(e.find("truncated.gz"), std::string::npos) << e;
    e = error_of(dir.path / "trailing.gz", 1);
    EXPECT_NE(e.find("trailing bytes"), std::string::npos) << e;
    e = error_of(dir.path / "magic.gz", 1);
    EXPECT_NE(e.find("bad magic number"), std::string::npos) << e;
    EXPECT_NE(e.find("0x00000803"), std::string::npos) << e;
    e = error_of(dir.path / "corrupt.gz", 1);
    EXPECT_NE(e.find("corrupt.gz"), std::string::npos) << e;
    e = error_of(dir.path / "missing.gz", 1);
    EXPECT_NE(e.find("not found"), std::string::npos) << e;
}

TEST(IdxFile, MissingDatasetDirectoryGivesInstallHint) {
    try {
        load_fashion_mnist("/nonexistent/fashion");
        FAIL();
    } catch (const DataError& e) {
        EXPECT_NE(std::string(e.what()).find("dataset-fashion-mnist"), std::string::npos) << e.what();
    }
}

TEST(DomainTransform, RotationsInversionAndPatchPermutation) {
    auto x = torch::arange(16, torch::kFloat32).view({1, 1, 4, 4}) / 15.0;
    auto r90 = apply_domain_transform(x, "rot90", {});
    // counter-clockwise: the top-right pixel moves to the top-left
    EXPECT_FLOAT_EQ(r90[0][0][0][0].item<float>(), x[0][0][0][3].item<float>());
    auto full = apply_domain_transform(apply_domain_transform(r90, "rot90", {}), "rot180", {});
    EXPECT_TRUE(torch::allclose(full, x));
    EXPECT_TRUE(torch::allclose(apply_domain_transform(x, "invert", {}), 1.0 - x));
    std::vector<int> perm(16);
    for (int i = 0; i < 16; ++i) perm[i] = 15 - i;  // reverse the 4×4 grid of 1×1 patches
    auto p = apply_domain_transform(x, "patch_permute", perm);
    EXPECT_TRUE(torch::allclose(p.flatten(), x.flatten().flip({0})));
    EXPECT_THROW(apply_domain_transform(x, "rot45", {}), std::invalid_argument);
}

TEST(Batcher, DeterministicPermutationsCoverEverySample) {
    Batcher a(10, 4, 42), b(10, 4, 42), c(10, 4, 43);
    auto ea = a.epoch(0), eb = b.epoch(0), ec = c.epoch(0);
    ASSERT_EQ(ea.size(), 3u);
    EXPECT_EQ(ea[2].numel(), 2);
    auto all = torch::cat(ea).sort();
    EXPECT_TRUE(torch::equal(std::get<0>(all), torch::arange(10)));
    for (size_t i = 0; i < ea.size(); ++i) EXPECT_TRUE(torch::equal(ea[i], eb[i]));
    EXPECT_FALSE(torch::equal(torch::cat(ea), torch::cat(ec)));
    EXPECT_FALSE(torch::equal(torch::cat(a.epoch(0)), torch::cat(a.epoch(1))));
}

TEST(StreamData, DefaultStreamFromFashionMnist) {
    const char* unpacked = std::getenv("LORICA_FASHION_MNIST_ROOT");  // bench/device/check.sh
    RawDataset raw = load_fashion_mnist(unpacked && *unpacked ? unpacked : kFashionMnistDefaultRoot);
    EXPECT_EQ(raw.train_images.sizes(), (std::vector<int64_t>{60000, 1, 28, 28}));
    EXPECT_EQ(raw.test_labels.size(0), 10000);
    ExperimentConfig config = parse_experiment_config(nlohmann::json::object());
    StreamData data = build_stream_data(config, raw, 0);
    // seed 0: order = RandomState(0).permutation(10) = [2, 8, 4, 9, 1, 6, 7, 3, 0, 5]
    EXPECT_EQ(data.spec.class_order, (std::vector<int>{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}));
    EXPECT_EQ(data.spec.foundation_classes, (std::vector<int>{2, 8, 4, 9, 1}));
    ASSERT_EQ(data.tasks.size(), 5u);
    EXPECT_EQ(data.tasks[1].spec.classes, (std::vector<int>{4, 9}));
    EXPECT_EQ(data.tasks[1].spec.domain, "invert");
    EXPECT_EQ(data.foundation_train.size(), 15000);
    EXPECT_EQ(data.foundation_test.size(), 2500);
    EXPECT_EQ(data.tasks[0].train.size(), 4000);
    EXPECT_EQ(data.tasks[0].test.size(), 1000);
    // Normalised with mean 0.2860, std 0.3530: the foundation images average about 0.
    EXPECT_NEAR(data.foundation_train.samples->batch(index_range(0, data.foundation_train.size()), BatchMode::train, 0)
                    .mean()
                    .item<double>(),
                0.0, 0.15);
    EXPECT_EQ(local_labels(data.tasks[1].train.labels, {4, 9}).max().item<int64_t>(), 1);
}
