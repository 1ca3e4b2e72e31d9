// The ViT-B/16 benchmark presets, run end to end as shipped on data of their exact layout: every preset
// is assembled from resources/presets (as `lorica-cli run --preset` does), pointed at a tiny generated
// data set with the benchmark's class count and format and at the weights of a small 224-px ViT that
// replaces ViT-B/16, trained 1 step per task on the CPU, and checked for a finished run whose stream is
// cut from the published class order of seed 1993 and whose accuracy matrix is complete (one row per
// task, the task's classes × test images in every cell). The presets' other seeds are checked without
// training: every seed's stream is the published order of that seed.
//
// CIFAR-100 is in test_cifar100_preset.cpp.
#include <gtest/gtest.h>

#include <algorithm>

#include "engine/config/preset_notes.h"
#include "engine/stream/stream_spec.h"
#include "tests/presets/preset_fixtures.h"

using namespace lorica;
using namespace lorica::testing;
using json = nlohmann::json;

namespace {

// Data sets built once for the whole binary (the 200-class folders serve several presets).
struct BenchmarkData {
    TempDir dir{"presets"};
    fs::path imagenet_r() {
        return once(dir.path / "imagenet-r",
                    [](const fs::path& p) { write_presplit_folders(p, wnid_classes(200), 1, 1); });
    }
    fs::path imagenet_a() {
        return once(dir.path / "imagenet-a",
                    [](const fs::path& p) { write_presplit_folders(p, wnid_classes(200), 1, 1); });
    }
    fs::path cub() {
        return once(dir.path / "cub", [](const fs::path& p) { write_presplit_folders(p, cub_classes(), 1, 1); });
    }
    fs::path domainnet() {
        return once(dir.path / "domainnet", [](const fs::path& p) { write_domainnet(p); });
    }
    fs::path weights() {
        return once(dir.path / "small-vit.safetensors", [](const fs::path& p) { write_small_vit_weights(p); });
    }

private:
    template <typename Write>
    static fs::path once(const fs::path& p, Write write) {
        if (!fs::exists(p)) write(p);
        return p;
    }
};

BenchmarkData& data() {
    static BenchmarkData d;
    return d;
}

// The overrides a user gives (data.root, backbone.weights), the small ViT, and the test's budget:
// one seed, one step per task, one thread, no evaluation before each task (the end-of-task matrix is
// what is checked; every evaluation transforms each test image again).
std::vector<std::string> test_overrides(const fs::path& root, std::vector<std::string> extra = {}) {
    std::vector<std::string> o = {"data.root=" + root.string(),
                                  "backbone.weights=" + data().weights().string(),
                                  "seeds=[1993]",
                                  "train.max_steps_per_task=1",
                                  "eval.before_task=false",
                                  "device=cpu",
                                  "threads=1",
                                  "cache_dir=" + (data().dir.path / "cache").string()};
    for (auto& s : small_vit_overrides()) o.push_back(s);
    for (auto& s : extra) o.push_back(s);
    return o;
}

json preset_document(const std::string& name) { return read_json_file(find_preset(name)); }

// Every seed of the preset (1993–1997) cuts its tasks from that seed's published order.
void expect_published_orders(const std::string& name, int num_classes) {
    const ExperimentConfig c = parse_experiment_config(preset_document(name));
    EXPECT_EQ(c.seeds, (std::vector<int64_t>{1993, 1994, 1995, 1996, 1997})) << name;
    EXPECT_FALSE(c.stream.class_order_seed.has_value()) << name << ": the class order must follow the run's seed";
    for (int64_t seed : c.seeds) {
        const StreamSpec spec = make_stream_spec(c, seed, num_classes);
        const std::vector<int> order = published_order(num_classes, seed);
        ASSERT_EQ(static_cast<int>(spec.tasks.size()), c.stream.tasks);
        for (int t = 0; t < c.stream.tasks; ++t) {
            const int k = c.stream.classes_per_task;
            EXPECT_EQ(spec.tasks[t].classes, std::vector<int>(order.begin() + t * k, order.begin() + (t + 1) * k))
                << name << " seed " << seed << " task " << t;
        }
    }
}

// What every ViT-B/16 benchmark preset declares: the ViT-B/16 sizes at 224 px, no foundation step, a
// description naming where its values come from, and both user paths required.
void expect_benchmark_preset(const std::string& name) {
    const json doc = preset_document(name);
    const ExperimentConfig c = parse_experiment_config(doc);
    EXPECT_EQ(c.backbone.dim, 768) << name;
    EXPECT_EQ(c.backbone.depth, 12) << name;
    EXPECT_EQ(c.backbone.patch_size, 16) << name;
    EXPECT_EQ(c.backbone.image_size, 224) << name;
    EXPECT_FALSE(c.foundation.enabled) << name;
    EXPECT_TRUE(c.data.root.empty() && c.backbone.weights.empty()) << name << ": the user's paths are not shipped";
    const PresetNotes notes = read_preset_notes(doc);
    EXPECT_NE(notes.description.find("ViT-B/16"), std::string::npos) << name;
    EXPECT_NE(notes.description.find("paper"), std::string::npos) << name << ": say where the values come from";
    EXPECT_NE(notes.description.find("1993"), std::string::npos) << name;
    EXPECT_EQ(notes.description.find('\n'), std::string::npos) << name << ": one line";
    std::vector<std::string> required;
    for (const auto& r : notes.requirements) required.push_back(r.field);
    EXPECT_EQ(required, (std::vector<std::string>{"backbone.weights", "data.root"})) << name;
    EXPECT_EQ(preset_description(name), notes.description);
}

}  // namespace

TEST(BenchmarkPresets, SdLoraImageNetR5_10_20RunEndToEnd) {
    for (int tasks : {5, 10, 20}) {
        const std::string name = "sd-lora-vitb-imagenet-r-" + std::to_string(tasks);
        SCOPED_TRACE(name);
        expect_benchmark_preset(name);
        expect_published_orders(name, 200);
        const PresetRun run = run_preset(name, test_overrides(data().imagenet_r()), HeadMode::class_il);
        EXPECT_EQ(run.status, RunStatus::finished);
        expect_complete_run(run, 0, tasks, 200 / tasks, 200, 1993, 1);
    }
}

TEST(BenchmarkPresets, SdLoraImageNetA10RunsEndToEnd) {
    const std::string name = "sd-lora-vitb-imagenet-a-10";
    expect_benchmark_preset(name);
    expect_published_orders(name, 200);
    const PresetRun run = run_preset(name, test_overrides(data().imagenet_a()), HeadMode::class_il);
    EXPECT_EQ(run.status, RunStatus::finished);
    expect_complete_run(run, 0, 10, 20, 200, 1993, 1);
}

TEST(BenchmarkPresets, SdLoraCub200RunsEndToEnd) {
    const std::string name = "sd-lora-vitb-cub200-10";
    expect_benchmark_preset(name);
    expect_published_orders(name, 200);
    const PresetRun run = run_preset(name, test_overrides(data().cub()), HeadMode::class_il);
    EXPECT_EQ(run.status, RunStatus::finished);
    expect_complete_run(run, 0, 10, 20, 200, 1993, 1);
}

TEST(BenchmarkPresets, SdLoraDomainNet5RunsEndToEndOnThePublishedFileLists) {
    const std::string name = "sd-lora-vitb-domainnet-5";
    expect_benchmark_preset(name);
    expect_published_orders(name, 345);
    const PresetRun run = run_preset(name, test_overrides(data().domainnet()), HeadMode::class_il);
    EXPECT_EQ(run.status, RunStatus::finished);
    expect_complete_run(run, 0, 5, 69, 345, 1993, 1);
    // The six domains' images all reach the stream: every class has its one training image.
    ASSERT_EQ(run.streams.size(), 1u);
    for (const TaskInfo& t : run.streams[0]) EXPECT_EQ(t.train_samples, 69);
}

TEST(BenchmarkPresets, LoriSImageNetR10RunsEndToEnd) {
    const std::string name = "lori-s-vitb-imagenet-r-10";
    expect_benchmark_preset(name);
    expect_published_orders(name, 200);
    const ExperimentConfig c = parse_experiment_config(preset_document(name));
    EXPECT_EQ(c.method.name, "lori-s");
    EXPECT_EQ(c.method.options.at("sparsity"), 0.9);
    const PresetRun run = run_preset(name, test_overrides(data().imagenet_r()), HeadMode::class_il);
    EXPECT_EQ(run.status, RunStatus::finished);
    expect_complete_run(run, 0, 10, 20, 200, 1993, 1);
}

TEST(BenchmarkPresets, MergedLoraRankSweepRunsEndToEnd) {
    const std::string name = "merged-lora-vitb-cub200-rank-sweep";
    expect_benchmark_preset(name);
    expect_published_orders(name, 200);
    const ExperimentConfig c = parse_experiment_config(preset_document(name));
    EXPECT_EQ(c.method.name, "merged-lora");
    EXPECT_TRUE(c.stream.task_incremental);
    EXPECT_EQ(c.sweep.field, "method.rank");
    const std::vector<json> ranks = {1, 2, 4, 8, 16, 32};
    EXPECT_EQ(c.sweep.values, ranks);
    // The sweep's extreme ranks, one run each (task-incremental: the task-IL matrix is the result); the
    // four ranks between run the same code with other sizes, and the test budget is spent elsewhere.
    const std::vector<json> run_ranks = {1, 32};
    const PresetRun run = run_preset(name, test_overrides(data().cub(), {"sweep.values=[1,32]"}), HeadMode::task_il);
    EXPECT_EQ(run.status, RunStatus::finished);
    ASSERT_EQ(run.runs.size(), run_ranks.size());
    for (size_t i = 0; i < run_ranks.size(); ++i) {
        SCOPED_TRACE(run.runs[i].variant);
        EXPECT_EQ(run.runs[i].variant, "rank=" + run_ranks[i].dump());
        const json effective = json::parse(run.runs[i].config_json);
        EXPECT_EQ(effective["method"]["rank"], run_ranks[i]);
        EXPECT_EQ(effective["method"]["alpha"].get<double>(), 2.0 * run_ranks[i].get<int>());
        expect_complete_run(run, i, 10, 20, 200, 1993, 1);
    }
}

TEST(BenchmarkPresets, PresetListingShowsEveryBenchmarkWithItsDescription) {
    const std::vector<std::string> names = list_presets();
    for (const char* name :
         {"sd-lora-vitb-imagenet-r-5", "sd-lora-vitb-imagenet-r-10", "sd-lora-vitb-imagenet-r-20",
          "sd-lora-vitb-imagenet-a-10", "sd-lora-vitb-cub200-10", "sd-lora-vitb-domainnet-5",
          "sd-lora-vitb-cifar100-10", "lori-s-vitb-imagenet-r-10", "merged-lora-vitb-cub200-rank-sweep"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
        EXPECT_FALSE(preset_description(name).empty()) << name;
    }
}
