// The ViT-B/16 benchmark presets, run end to end as shipped on data of their exact layout: every preset
// is assembled from resources/presets (as `lorica-cli run --preset` does), pointed at a tiny generated
// data set with the benchmark's class count and format and at the weights of a small 224-px ViT that
// replaces ViT-B/16, trained 1 step per task on the CPU, and checked for a finished run whose stream is
// cut from the published class order of seed 1993 and whose accuracy matrix is complete (one row per
// task, the task's classes × test images in every cell). The presets' other seeds are checked without
// training: every seed's stream is the published order of that seed. CIFAR-100's 32-px records run at
// the preset's 224 px: the run streams them and resizes per batch, as the papers do.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <ostream>

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
    fs::path cifar100() {
        return once(dir.path / "cifar-100-binary", [](const fs::path& p) { write_cifar100_binary(p, 1, 1); });
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

// One preset's end-to-end case: the tiny data set of its layout, its benchmark's class and task
// counts, and the runs it makes (one, or one per sweep variant).
struct PresetCase {
    std::string preset;
    fs::path (BenchmarkData::*data)();
    int num_classes = 0;
    int tasks = 0;
    std::vector<std::string> extra_overrides = {};
    HeadMode head = HeadMode::class_il;  // the matrix that is the result (task-IL for task-incremental)
    std::vector<std::string> variants = {""};
    std::function<void(const RunStarted&, size_t)> check_run = {};  // more checks of run i, if any
};

// The rank sweep's run i trains its variant's rank (1, then 32) with alpha = 2 × rank.
void expect_rank_and_alpha(const RunStarted& run, size_t i) {
    const int rank = i == 0 ? 1 : 32;
    const json effective = json::parse(run.config_json);
    EXPECT_EQ(effective["method"]["rank"], rank);
    EXPECT_EQ(effective["method"]["alpha"].get<double>(), 2.0 * rank);
}

// How gtest prints a case: its preset's name.
void PrintTo(const PresetCase& c, std::ostream* os) { *os << c.preset; }

// gtest parameter names: the preset's name with '-' as '_'.
std::string case_name(const ::testing::TestParamInfo<PresetCase>& info) {
    std::string name = info.param.preset;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

class BenchmarkPresetRun : public ::testing::TestWithParam<PresetCase> {};

}  // namespace

// Every preset as shipped: its declarations, every seed's published order, then one seed trained 1
// step per task: each run finished with a complete accuracy matrix over the published order, and
// every class's one training image reached the stream (DomainNet: from all six domains' lists).
TEST_P(BenchmarkPresetRun, RunsEndToEndOnDataOfItsLayout) {
    const PresetCase& c = GetParam();
    expect_benchmark_preset(c.preset);
    expect_published_orders(c.preset, c.num_classes);
    const PresetRun run = run_preset(c.preset, test_overrides((data().*c.data)(), c.extra_overrides), c.head);
    EXPECT_EQ(run.status, RunStatus::finished);
    ASSERT_EQ(run.runs.size(), c.variants.size());
    const int classes_per_task = c.num_classes / c.tasks;
    for (size_t i = 0; i < c.variants.size(); ++i) {
        SCOPED_TRACE(c.variants[i]);
        EXPECT_EQ(run.runs[i].variant, c.variants[i]);
        expect_complete_run(run, i, c.tasks, classes_per_task, c.num_classes, 1993, 1);
        for (const TaskInfo& t : run.streams[i]) EXPECT_EQ(t.train_samples, classes_per_task) << "task " << t.task;
        if (c.check_run) c.check_run(run.runs[i], i);
    }
}

// The rank sweep's extreme ranks run (task-incremental: the task-IL matrix is the result); the four
// ranks between run the same code with other sizes, and the test budget is spent elsewhere. Of SD-LoRA's
// ablation presets the single-decoupled one runs (its own training path); the other two are
// sd-lora-vitb-imagenet-r-10 plus the option (MethodsAndDataOfThePresets), each option unit-tested.
INSTANTIATE_TEST_SUITE_P(
    BenchmarkPresets, BenchmarkPresetRun,
    ::testing::Values(PresetCase{"sd-lora-vitb-imagenet-r-5", &BenchmarkData::imagenet_r, 200, 5},
                      PresetCase{"sd-lora-vitb-imagenet-r-10", &BenchmarkData::imagenet_r, 200, 10},
                      PresetCase{"sd-lora-vitb-imagenet-r-20", &BenchmarkData::imagenet_r, 200, 20},
                      PresetCase{"sd-lora-vitb-imagenet-a-10", &BenchmarkData::imagenet_a, 200, 10},
                      PresetCase{"sd-lora-vitb-cub200-10", &BenchmarkData::cub, 200, 10},
                      PresetCase{"sd-lora-vitb-domainnet-5", &BenchmarkData::domainnet, 345, 5},
                      PresetCase{"sd-lora-vitb-cifar100-10", &BenchmarkData::cifar100, 100, 10},
                      PresetCase{"sd-lora-ablation-single-decoupled-vitb-imagenet-r-10", &BenchmarkData::imagenet_r,
                                 200, 10},
                      PresetCase{"lori-s-vitb-imagenet-r-10", &BenchmarkData::imagenet_r, 200, 10},
                      PresetCase{"lora-pm-vitb-imagenet-r-10", &BenchmarkData::imagenet_r, 200, 10},
                      PresetCase{"merged-lora-vitb-cub200-rank-sweep",
                                 &BenchmarkData::cub,
                                 200,
                                 10,
                                 {"sweep.values=[1,32]"},
                                 HeadMode::task_il,
                                 {"rank=1", "rank=32"}}),
    case_name);

// What the presets choose beyond the common declarations (read from the documents, no run).
TEST(BenchmarkPresets, MethodsAndDataOfThePresets) {
    const ExperimentConfig lori = parse_experiment_config(preset_document("lori-s-vitb-imagenet-r-10"));
    EXPECT_EQ(lori.method.name, "lori-s");
    EXPECT_EQ(lori.method.options.at("sparsity"), 0.9);

    const ExperimentConfig merged = parse_experiment_config(preset_document("merged-lora-vitb-cub200-rank-sweep"));
    EXPECT_EQ(merged.method.name, "merged-lora");
    EXPECT_TRUE(merged.stream.task_incremental);
    EXPECT_EQ(merged.sweep.field, "method.rank");
    EXPECT_EQ(merged.sweep.values, (std::vector<json>{1, 2, 4, 8, 16, 32}));

    // CIFAR-100's 32-px records at the preset's 224 px (streamed, resized per batch), fine labels.
    const ExperimentConfig cifar = parse_experiment_config(preset_document("sd-lora-vitb-cifar100-10"));
    EXPECT_EQ(cifar.data.dataset, DatasetId::cifar100);
    EXPECT_EQ(cifar.data.cifar100_labels, Cifar100Labels::fine);
    EXPECT_EQ(cifar.backbone.image_size, 224);

    // SD-LoRA's ablations: sd-lora-vitb-imagenet-r-10 with method.options.ablation set.
    const json reference = preset_document("sd-lora-vitb-imagenet-r-10");
    for (const char* ablation : {"first-direction-only", "single-decoupled", "old-magnitudes-fixed"}) {
        json doc = preset_document(std::string("sd-lora-ablation-") + ablation + "-vitb-imagenet-r-10");
        EXPECT_EQ(doc["method"]["options"]["ablation"], ablation);
        doc["method"]["options"].erase("ablation");
        for (const char* key : {"method", "train", "data", "stream", "backbone", "seeds", "eval"})
            EXPECT_EQ(doc[key], reference[key]) << ablation << ": " << key;
    }
}

TEST(BenchmarkPresets, PresetListingShowsEveryBenchmarkWithItsDescription) {
    const std::vector<std::string> names = list_presets();
    for (const char* name :
         {"sd-lora-vitb-imagenet-r-5", "sd-lora-vitb-imagenet-r-10", "sd-lora-vitb-imagenet-r-20",
          "sd-lora-vitb-imagenet-a-10", "sd-lora-vitb-cub200-10", "sd-lora-vitb-domainnet-5",
          "sd-lora-vitb-cifar100-10", "lori-s-vitb-imagenet-r-10", "merged-lora-vitb-cub200-rank-sweep",
          "sd-lora-ablation-first-direction-only-vitb-imagenet-r-10",
          "sd-lora-ablation-single-decoupled-vitb-imagenet-r-10",
          "sd-lora-ablation-old-magnitudes-fixed-vitb-imagenet-r-10"}) {
        EXPECT_NE(std::find(names.begin(), names.end(), name), names.end()) << name;
        EXPECT_FALSE(preset_description(name).empty()) << name;
    }
}
