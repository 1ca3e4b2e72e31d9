// The CIFAR-100 benchmark preset (sd-lora-vitb-cifar100-10) end to end: CIFAR-100 binary files with
// the 100 fine classes, the preset as shipped pointed at them and at a small 224-px ViT's weights,
// 1 step per task. CIFAR images are 32 px and the preset's backbone takes 224 px, as the papers do: the
// run streams the 32-px records and resizes them to the backbone's size.
#include <gtest/gtest.h>

#include "tests/presets/preset_fixtures.h"

using namespace lorica;
using namespace lorica::testing;

namespace {

struct CifarFixture {
    TempDir dir{"preset-cifar100"};
    fs::path root = dir.path / "cifar-100-binary";
    fs::path weights = dir.path / "w.safetensors";
    CifarFixture() {
        write_cifar100_binary(root, 1, 1);
        write_small_vit_weights(weights);
    }
    std::vector<std::string> overrides(const fs::path& w) const {
        std::vector<std::string> o = {"data.root=" + root.string(),
                                      "backbone.weights=" + w.string(),
                                      "seeds=[1993]",
                                      "train.max_steps_per_task=1",
                                      "eval.before_task=false",
                                      "device=cpu",
                                      "threads=1"};
        for (auto& s : small_vit_overrides()) o.push_back(s);
        return o;
    }
};

void expect_shipped_cifar_preset() {
    const ExperimentConfig shipped = parse_experiment_config(read_json_file(find_preset("sd-lora-vitb-cifar100-10")));
    EXPECT_EQ(shipped.data.dataset, DatasetId::cifar100);
    EXPECT_EQ(shipped.data.cifar100_labels, Cifar100Labels::fine);
    EXPECT_EQ(shipped.backbone.image_size, 224);
    EXPECT_EQ(shipped.backbone.dim, 768);
    EXPECT_FALSE(shipped.foundation.enabled);
    EXPECT_EQ(shipped.seeds, (std::vector<int64_t>{1993, 1994, 1995, 1996, 1997}));
}

}  // namespace

TEST(BenchmarkPresets, SdLoraCifar100At224RunsEndToEnd) {
    expect_shipped_cifar_preset();
    CifarFixture f;
    const PresetRun run = run_preset("sd-lora-vitb-cifar100-10", f.overrides(f.weights), HeadMode::class_il);
    EXPECT_EQ(run.status, RunStatus::finished);
    expect_complete_run(run, 0, 10, 10, 100, 1993, 1);
}
