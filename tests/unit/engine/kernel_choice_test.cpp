// The per-machine GEMM choice (engine/model/kernel_choice.h): the table's JSON round trip, the machine
// key, measuring (both candidates timed, the faster picked, large products on a slice of their rows,
// the global generator untouched), the cache file (written on a first measurement, read back
// instead of measuring again), given tables and the fallback rule.
//
// Every test of lorica_engine_tests runs on an empty given table (the environment below): dense_linear
// then follows the fallback rule, nothing is measured and no cache file is written, so results do not
// depend on the machine's timings. The environment also sets LORICA_KERNEL_CHOICE=rule, so that the
// lorica-cli processes tests start (sweep shards, CLI runs) follow the same rule and compute the same
// bits as the test's own process. Tests of the measured tables switch to them in a scope and back.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "tests/support/temp_dir.h"
#include "engine/model/dense_linear.h"
#include "engine/model/kernel_choice.h"

using namespace lorica;

namespace {

class GivenKernelTableEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        ::setenv("LORICA_KERNEL_CHOICE", "rule", 1);
        use_given_kernel_table({});
    }
};
[[maybe_unused]] ::testing::Environment* const kGivenKernelTableEnvironment =
    ::testing::AddGlobalTestEnvironment(new GivenKernelTableEnvironment);

// Sets (or, with nullopt, unsets) an environment variable for one scope and restores its previous value
// (or absence).
class KernelChoiceEnvScope {
public:
    KernelChoiceEnvScope(const char* name, const std::optional<std::string>& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~KernelChoiceEnvScope() {
        if (old_)
            ::setenv(name_, old_->c_str(), 1);
        else
            ::unsetenv(name_);
    }

private:
    const char* name_;
    std::optional<std::string> old_;
};

// Measured tables, cached under a fresh XDG_CACHE_HOME, for one scope; then the empty given table again.
struct MeasuredTablesScope {
    lorica::testing::TempDir cache{"kernel-choice"};
    KernelChoiceEnvScope xdg{"XDG_CACHE_HOME", cache.path.string()};
    KernelChoiceEnvScope mode{"LORICA_KERNEL_CHOICE", std::nullopt};
    MeasuredTablesScope() { use_measured_kernel_tables(); }
    ~MeasuredTablesScope() { use_given_kernel_table({}); }
};

TEST(KernelTable, JsonRoundTripKeepsEveryEntry) {
    KernelTable table;
    table.set(KernelTiming{{ProductRole::forward, 2176, 64, 192}, 2176, 0.53, 0.51, GemmKernel::onednn});
    table.set(KernelTiming{{ProductRole::grad_weight, 2176, 64, 192}, 2176, 0.58, 0.81, GemmKernel::aten});
    table.set(KernelTiming{{ProductRole::forward_gelu, 12608, 768, 3072}, 512, 7.5, 7.25, GemmKernel::onednn});
    table.set({ProductRole::grad_input, 10, 3, 4}, GemmKernel::aten);
    const KernelTable back = KernelTable::from_json(nlohmann::json::parse(table.to_json().dump()));
    ASSERT_EQ(back.entries().size(), 4u);
    for (const auto& [shape, t] : table.entries()) {
        const KernelTiming& b = back.entries().at(shape);
        EXPECT_EQ(b.measured_rows, t.measured_rows);
        EXPECT_DOUBLE_EQ(b.aten_ms, t.aten_ms);
        EXPECT_DOUBLE_EQ(b.onednn_ms, t.onednn_ms);
        EXPECT_EQ(b.pick, t.pick);
    }
    // A malformed or unknown entry is skipped; the rest is kept.
    nlohmann::json doc = table.to_json();
    doc["entries"].push_back({{"role", "sideways"}, {"rows", 1}, {"in", 1}, {"out", 1}, {"pick", "aten"}});
    doc["entries"].push_back({{"role", "forward"}, {"rows", "many"}, {"in", 1}, {"out", 1}, {"pick", "aten"}});
    EXPECT_EQ(KernelTable::from_json(doc).entries().size(), 4u);
    EXPECT_TRUE(KernelTable::from_json(nlohmann::json::array()).empty());
}

TEST(KernelChoice, MachineKeyNamesTheCpuTorchAndThreads) {
    const MachineIdentity one = current_machine_identity(1), two = current_machine_identity(2);
    EXPECT_EQ(one.key(), current_machine_identity(1).key());  // stable
    EXPECT_NE(one.key(), two.key());
    EXPECT_TRUE(one.key().ends_with("-t1")) << one.key();
    EXPECT_EQ(one.torch_version, TORCH_VERSION);
    MachineIdentity other = one;
    other.torch_version = "0.0.1";
    EXPECT_NE(other.key(), one.key());
    other = one;
    other.isa_flags += " avx512f_not_really";
    EXPECT_NE(other.key(), one.key());
    for (char c : one.key()) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-') << one.key();
    KernelChoiceEnvScope xdg("XDG_CACHE_HOME", "/somewhere/cache");
    EXPECT_EQ(kernel_cache_path(one), "/somewhere/cache/lorica/kernel-choice/" + one.key() + ".json");
}

TEST(KernelChoice, LinearLayerProductsAndMeasuredRows) {
    const auto train = linear_layer_products(2176, 64, 192, true);
    ASSERT_EQ(train.size(), 3u);
    EXPECT_EQ(train[0], (ProductShape{ProductRole::forward, 2176, 64, 192}));
    EXPECT_EQ(train[1], (ProductShape{ProductRole::grad_input, 2176, 64, 192}));
    EXPECT_EQ(train[2], (ProductShape{ProductRole::grad_weight, 2176, 64, 192}));
    EXPECT_EQ(linear_layer_products(8704, 64, 256, false, true),
              (std::vector<ProductShape>{{ProductRole::forward_gelu, 8704, 64, 256}}));
    // Small products are timed whole; large ones on max(512, 10⁹ / (2·in·out)) rows.
    EXPECT_EQ(measured_rows_of({ProductRole::forward, 8704, 64, 256}), 8704);
    EXPECT_EQ(measured_rows_of({ProductRole::forward, 100000, 64, 256}), static_cast<int64_t>(1e9 / (2.0 * 64 * 256)));
    EXPECT_EQ(measured_rows_of({ProductRole::forward, 12608, 768, 3072}), 512);
    EXPECT_EQ(measured_rows_of({ProductRole::forward, 300, 768, 3072}), 300);
}

TEST(KernelChoice, MeasurePicksTheFasterAndLeavesTheGlobalGeneratorAlone) {
    if (!onednn_linear_available()) GTEST_SKIP() << "LibTorch without oneDNN: nothing to choose";
    torch::manual_seed(7);
    const torch::Tensor expected = torch::randn({4});
    torch::manual_seed(7);
    for (ProductRole role :
         {ProductRole::forward, ProductRole::forward_gelu, ProductRole::grad_input, ProductRole::grad_weight}) {
        const ProductShape shape{role, 96, 16, 24};
        const KernelTiming t = measure_product(shape);
        EXPECT_EQ(t.shape, shape);
        EXPECT_EQ(t.measured_rows, 96);
        EXPECT_GT(t.aten_ms, 0.0);
        EXPECT_GT(t.onednn_ms, 0.0);
        // The faster, a difference under 5 % being a tie that keeps the fallback rule's library.
        const GemmKernel rule = fallback_kernel(role),
                         other = rule == GemmKernel::aten ? GemmKernel::onednn : GemmKernel::aten;
        const double rule_ms = rule == GemmKernel::aten ? t.aten_ms : t.onednn_ms;
        const double other_ms = rule == GemmKernel::aten ? t.onednn_ms : t.aten_ms;
        EXPECT_EQ(t.pick, other_ms < (1 - kKernelChoiceMargin) * rule_ms ? other : rule);
    }
    EXPECT_TRUE(torch::equal(torch::randn({4}), expected));
}

TEST(KernelChoice, GivenTablePicksAndFallsBackToTheRule) {
    if (!onednn_linear_available()) GTEST_SKIP() << "LibTorch without oneDNN: always ATen";
    KernelTable table;
    const ProductShape fwd{ProductRole::forward, 40, 8, 12}, gw{ProductRole::grad_weight, 40, 8, 12};
    table.set(fwd, GemmKernel::aten);
    table.set(gw, GemmKernel::onednn);
    use_given_kernel_table(table);
    EXPECT_EQ(chosen_kernel(fwd), GemmKernel::aten);
    EXPECT_EQ(chosen_kernel(gw), GemmKernel::onednn);
    // Not in the table: the rule (oneDNN forward and grad_input, ATen grad_weight), never measured.
    EXPECT_EQ(chosen_kernel({ProductRole::forward, 41, 8, 12}), GemmKernel::onednn);
    EXPECT_EQ(chosen_kernel({ProductRole::grad_input, 41, 8, 12}), GemmKernel::onednn);
    EXPECT_EQ(chosen_kernel({ProductRole::grad_weight, 41, 8, 12}), GemmKernel::aten);
    use_given_kernel_table({});
}

TEST(KernelChoice, FirstUseMeasuresAndWritesTheCacheWhichTheNextProcessReads) {
    if (!onednn_linear_available()) GTEST_SKIP() << "LibTorch without oneDNN: nothing to choose";
    MeasuredTablesScope measured;
    const ProductShape fwd{ProductRole::forward, 64, 16, 32};
    const std::vector<ProductShape> backward{{ProductRole::grad_input, 64, 16, 32},
                                             {ProductRole::grad_weight, 64, 16, 32}};
    const std::string path = kernel_cache_path(current_machine_identity());
    ASSERT_FALSE(std::filesystem::exists(path));
    const GemmKernel first = chosen_kernel(fwd, backward);
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    nlohmann::json doc = nlohmann::json::parse(std::ifstream(path));
    EXPECT_EQ(doc.at("machine").at("threads").get<int>(), current_machine_identity().threads);
    KernelTable stored = KernelTable::from_json(doc.at("table"));
    ASSERT_EQ(stored.entries().size(), 3u);  // the forward and, measured with it, both backward products
    EXPECT_EQ(stored.pick(fwd), first);
    EXPECT_EQ(chosen_kernel(backward[0]), stored.pick(backward[0]));
    // Another process (tables dropped from memory) reads the file instead of measuring: flip the stored
    // pick and it follows the file.
    const GemmKernel flipped = first == GemmKernel::aten ? GemmKernel::onednn : GemmKernel::aten;
    stored.set(KernelTiming{fwd, 64, 1.0, 1.0, flipped});
    doc["table"] = stored.to_json();
    std::ofstream(path) << doc.dump();
    use_measured_kernel_tables();
    EXPECT_EQ(chosen_kernel(fwd), flipped);
    EXPECT_EQ(measured_kernel_table().entries().size(), 3u);
    {  // LORICA_KERNEL_CHOICE=remeasure ignores the file and measures again (and rewrites it)
        KernelChoiceEnvScope remeasure("LORICA_KERNEL_CHOICE", "remeasure");
        use_measured_kernel_tables();
        const KernelTable again = measured_kernel_table({fwd});
        ASSERT_EQ(again.entries().size(), 1u);
        EXPECT_GT(again.entries().at(fwd).aten_ms + again.entries().at(fwd).onednn_ms, 0.0);
    }
}

TEST(KernelChoice, AShapeAnotherProcessMeasuredMeanwhileIsTakenFromTheFileNotMeasuredAgain) {
    if (!onednn_linear_available()) GTEST_SKIP() << "LibTorch without oneDNN: nothing to choose";
    MeasuredTablesScope measured;
    const ProductShape mine{ProductRole::forward, 48, 16, 24}, theirs{ProductRole::forward, 48, 24, 16};
    (void)chosen_kernel(mine);  // this process loads its table and measures `mine`
    // Meanwhile another process measured `theirs` and saved it (times no machine measures: 777 ms, so
    // a value read back proves it came from the file).
    const std::string path = kernel_cache_path(current_machine_identity());
    nlohmann::json doc = nlohmann::json::parse(std::ifstream(path));
    KernelTable on_disk = KernelTable::from_json(doc.at("table"));
    on_disk.set(KernelTiming{theirs, 48, 777.0, 778.0, GemmKernel::aten});
    doc["table"] = on_disk.to_json();
    std::ofstream(path) << doc.dump();
    EXPECT_EQ(chosen_kernel(theirs), GemmKernel::aten);
    const KernelTable table = measured_kernel_table();
    ASSERT_EQ(table.entries().count(theirs), 1u);
    EXPECT_EQ(table.entries().at(theirs).aten_ms, 777.0);
    EXPECT_EQ(table.entries().count(mine), 1u);
    // The file keeps both, and the lock file stays beside it.
    const KernelTable saved = KernelTable::from_json(nlohmann::json::parse(std::ifstream(path)).at("table"));
    EXPECT_EQ(saved.entries().size(), 2u);
    EXPECT_TRUE(std::filesystem::exists(path + ".lock"));
}

TEST(KernelChoice, RuleModeNeverMeasures) {
    if (!onednn_linear_available()) GTEST_SKIP() << "LibTorch without oneDNN: always ATen";
    MeasuredTablesScope measured;
    KernelChoiceEnvScope rule("LORICA_KERNEL_CHOICE", "rule");
    EXPECT_EQ(chosen_kernel({ProductRole::forward, 64, 16, 32}), GemmKernel::onednn);
    EXPECT_EQ(chosen_kernel({ProductRole::grad_weight, 64, 16, 32}), GemmKernel::aten);
    EXPECT_FALSE(std::filesystem::exists(kernel_cache_path(current_machine_identity())));
}

}  // namespace
