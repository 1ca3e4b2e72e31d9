// The InfLoRA ViT-B/16 ImageNet-R preset as shipped, on a tiny data set of ImageNet-R's layout (200
// class folders, one image each) with a small 224-px ViT in place of ViT-B/16, one step per task: the
// run finishes with a complete accuracy matrix over the published class order of seed 1993 (the input
// features are read over every task's data before and after training), every seed cuts the published
// order, and the document carries the released settings its description names.
#include <gtest/gtest.h>

#include "engine/config/preset_notes.h"
#include "engine/stream/stream_spec.h"
#include "tests/presets/preset_fixtures.h"

using namespace lorica;
using namespace lorica::testing;
using json = nlohmann::json;

namespace {

struct InfLoRAPresetData {
    TempDir dir{"inflora-presets"};
    fs::path imagenet_r = dir.path / "imagenet-r";
    fs::path weights = dir.path / "small-vit.safetensors";
    InfLoRAPresetData() {
        write_presplit_folders(imagenet_r, wnid_classes(200), 1, 1);
        write_small_vit_weights(weights);
    }
};

}  // namespace

TEST(InfLoRAPreset, ImageNetR10RunsEndToEnd) {
    const std::string name = "inflora-vitb-imagenet-r-10";
    const json doc = read_json_file(find_preset(name));
    const ExperimentConfig c = parse_experiment_config(doc);
    EXPECT_EQ(c.backbone.dim, 768);
    EXPECT_EQ(c.backbone.image_size, 224);
    EXPECT_FALSE(c.foundation.enabled);
    EXPECT_EQ(c.seeds, (std::vector<int64_t>{1993, 1994, 1995, 1996, 1997}));
    EXPECT_FALSE(c.stream.class_order_seed.has_value());
    for (int64_t seed : c.seeds) {
        const StreamSpec spec = make_stream_spec(c, seed, 200);
        const std::vector<int> order = published_order(200, seed);
        ASSERT_EQ(spec.tasks.size(), 10u);
        for (int t = 0; t < 10; ++t)
            EXPECT_EQ(spec.tasks[t].classes, std::vector<int>(order.begin() + 20 * t, order.begin() + 20 * (t + 1)))
                << "seed " << seed << " task " << t;
    }
    // configs/mimg10_inflora.json: rank 10 on k, v; lamb 0.98, lame 1.0; Adam 5e-4, no weight decay,
    // batch 128, 50 epochs; nn.Linear heads.
    EXPECT_EQ(c.method.name, "inflora");
    EXPECT_EQ(c.method.targets, (std::vector<std::string>{"k", "v"}));
    EXPECT_EQ(c.method.rank, 10);
    EXPECT_EQ(c.method.options.at("lamb"), 0.98);
    EXPECT_EQ(c.method.options.at("lame"), 1.0);
    EXPECT_EQ(c.method.options.at("feature_batches"), 0);
    EXPECT_EQ(c.train.optimizer.name, OptimizerAlgorithm::adam);
    EXPECT_EQ(c.train.optimizer.lr, 5e-4);
    EXPECT_EQ(c.train.optimizer.head_lr, 5e-4);
    EXPECT_EQ(c.train.optimizer.weight_decay, 0.0);
    EXPECT_EQ(c.train.batch_size, 128);
    EXPECT_EQ(c.train.epochs, 50);
    EXPECT_EQ(c.train.head_init, HeadInit::kaiming_uniform);
    EXPECT_EQ(c.train.loss, LossScope::current_task);
    const PresetNotes notes = read_preset_notes(doc);
    EXPECT_NE(notes.description.find("ViT-B/16"), std::string::npos);
    EXPECT_NE(notes.description.find("1993"), std::string::npos);
    std::vector<std::string> required;
    for (const auto& r : notes.requirements) required.push_back(r.field);
    EXPECT_EQ(required, (std::vector<std::string>{"backbone.weights", "data.root"}));

    InfLoRAPresetData data;
    std::vector<std::string> overrides = {"data.root=" + data.imagenet_r.string(),
                                          "backbone.weights=" + data.weights.string(),
                                          "seeds=[1993]",
                                          "train.max_steps_per_task=1",
                                          "eval.before_task=false",
                                          "device=cpu",
                                          "threads=1",
                                          "cache_dir=" + (data.dir.path / "cache").string()};
    for (auto& s : small_vit_overrides()) overrides.push_back(s);
    const PresetRun run = run_preset(name, overrides, HeadMode::class_il);
    EXPECT_EQ(run.status, RunStatus::finished);
    ASSERT_EQ(run.runs.size(), 1u);
    expect_complete_run(run, 0, 10, 20, 200, 1993, 1);
}
