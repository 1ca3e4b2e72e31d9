// The EWC-LoRA and O-LoRA ViT-B/16 ImageNet-R presets as shipped, on a tiny data set of ImageNet-R's
// layout (200 class folders, one image each) with a small 224-px ViT in place of ViT-B/16, one step
// per task: each run finishes with a complete accuracy matrix over the published class order of seed
// 1993 (EWC-LoRA's Fisher pass runs over every task's data), every seed cuts the published order, and
// the documents carry the released settings their descriptions name.
#include <gtest/gtest.h>

#include "engine/config/preset_notes.h"
#include "engine/stream/stream_spec.h"
#include "tests/presets/preset_fixtures.h"

using namespace lorica;
using namespace lorica::testing;
using json = nlohmann::json;

namespace {

struct LowRankPresetData {
    TempDir dir{"ewc-o-lora-presets"};
    fs::path imagenet_r = dir.path / "imagenet-r";
    fs::path weights = dir.path / "small-vit.safetensors";
    LowRankPresetData() {
        write_presplit_folders(imagenet_r, wnid_classes(200), 1, 1);
        write_small_vit_weights(weights);
    }
};

LowRankPresetData& low_rank_preset_data() {
    static LowRankPresetData d;
    return d;
}

void expect_preset_runs(const std::string& name) {
    SCOPED_TRACE(name);
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
    const PresetNotes notes = read_preset_notes(doc);
    EXPECT_NE(notes.description.find("ViT-B/16"), std::string::npos);
    EXPECT_NE(notes.description.find("1993"), std::string::npos);
    EXPECT_EQ(notes.description.find('\n'), std::string::npos);
    std::vector<std::string> required;
    for (const auto& r : notes.requirements) required.push_back(r.field);
    EXPECT_EQ(required, (std::vector<std::string>{"backbone.weights", "data.root"}));

    LowRankPresetData& data = low_rank_preset_data();
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

}  // namespace

TEST(LowRankRegularisedPresets, EWCLoRAImageNetR10RunsEndToEnd) {
    expect_preset_runs("ewc-lora-vitb-imagenet-r-10");
    const ExperimentConfig c = parse_experiment_config(read_json_file(find_preset("ewc-lora-vitb-imagenet-r-10")));
    EXPECT_EQ(c.method.name, "ewc-lora");
    EXPECT_EQ(c.method.targets, (std::vector<std::string>{"k", "v"}));
    EXPECT_EQ(c.method.rank, 10);
    EXPECT_EQ(c.method.alpha, 10.0);
    EXPECT_EQ(c.method.options.at("lambda"), 1e7);
    EXPECT_EQ(c.train.epochs, 50);
}

TEST(LowRankRegularisedPresets, OLoRAImageNetR10RunsEndToEnd) {
    expect_preset_runs("o-lora-vitb-imagenet-r-10");
    const ExperimentConfig c = parse_experiment_config(read_json_file(find_preset("o-lora-vitb-imagenet-r-10")));
    EXPECT_EQ(c.method.name, "o-lora");
    EXPECT_EQ(c.method.targets, (std::vector<std::string>{"q", "v"}));
    EXPECT_EQ(c.method.options.at("lambda_orth"), 0.5);
    EXPECT_EQ(c.method.options.at("lambda_l2"), 0.0);
}
