// The forgetting study's presets (soutif-vitb-rank-sweep, soutif-resnet50-rank-sweep and their -long
// versions), run end to end as shipped on tiny generated folders of the layouts they require: four
// pre-split class-folder data sets (Stanford Cars, Flowers102, FGVC-Aircraft, CUB-200), an ImageNet
// validation folder by synset id, and the weights of a small backbone with a 1,000-class ImageNet head
// in place of ViT-B/16 / ResNet-50 (a 224-px one-block ViT; the tiny ResNet, whose basic blocks adapt
// conv2 where ResNet-50's bottlenecks adapt conv3). Each run trains 1 step per task for one seed and
// three of the preset's variants (merge and drop at rank 1, full); the checks: every run finished, one
// head per data set with that data set's classes, the full task-IL matrix, the foundation (ImageNet)
// task evaluated before the stream and after every task, and the preset's declarations as the paper
// gives them.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/methods/catalog/merged_lora_options.h"
#include "engine/config/preset_notes.h"
#include "engine/config/presets.h"
#include "engine/eval/synset_tables.h"
#include "engine/io/timm_weights.h"
#include "engine/model/backbone_factory.h"
#include "engine/services/preflight.h"
#include "tests/presets/preset_fixtures.h"
#include "tests/support/class_folders.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
using json = nlohmann::json;

namespace {

// Classes of the four tiny data sets (the real ones have 196, 102, 100 and 200).
const std::vector<std::vector<std::string>>& dataset_classes() {
    static const std::vector<std::vector<std::string>> classes = {
        {"AM General Hummer SUV 2000", "Acura RL Sedan 2012", "Audi TT RS Coupe 2012"},
        {"pink primrose", "hard-leaved pocket orchid"},
        {"707-320", "727-200", "737-200", "747-100"},
        {"001.Black_footed_Albatross", "002.Laysan_Albatross", "003.Sooty_Albatross"}};
    return classes;
}

struct StudyData {
    TempDir dir{"soutif-presets"};
    std::vector<fs::path> roots;
    fs::path imagenet_val = dir.path / "imagenet-val";
    fs::path vit_weights = dir.path / "small-vit-in1k.safetensors";
    fs::path resnet_weights = dir.path / "tiny-resnet-in1k.safetensors";

    StudyData() {
        for (size_t i = 0; i < dataset_classes().size(); ++i) {
            roots.push_back(dir.path / ("dataset" + std::to_string(i)));
            write_class_folders(roots.back(), dataset_classes()[i], 2, 1, static_cast<int>(10 * i));
        }
        // Three ImageNet-1k synsets (tench, goldfish, ...: outputs 0, 1 and 500 of the head), 2 images each.
        const auto& wnids = imagenet1k_wnids();
        write_flat_class_folders(imagenet_val, {std::string(wnids[0]), std::string(wnids[1]), std::string(wnids[500])},
                                 2);
        BackboneConfig vit = backbone_preset("vit_base_patch16_224");
        vit.image_size = 224, vit.patch_size = 32, vit.dim = 32, vit.depth = 1, vit.heads = 2, vit.mlp_ratio = 2.0;
        Backbone vit_model = make_backbone(vit, 1000);
        save_timm_weights(vit_weights.string(), vit_model);
        Backbone resnet_model = make_backbone(backbone_preset("tiny-resnet"), 1000);
        save_timm_weights(resnet_weights.string(), resnet_model);
    }
};

StudyData& study() {
    static StudyData d;
    return d;
}

bool is_vit(const std::string& preset) { return preset.find("vitb") != std::string::npos; }
bool is_long(const std::string& preset) { return preset.find("-long") != std::string::npos; }

// The paths a user sets, the small backbone in place of the paper's, and the test's budget: one seed,
// three variants (merge and drop at rank 1, full), one step per task.
std::vector<std::string> study_overrides(const std::string& preset) {
    const StudyData& d = study();
    const int tasks = is_long(preset) ? 8 : 4;
    std::vector<std::string> o = {"foundation.data.root=" + d.imagenet_val.string(),
                                  "seeds=[1]",
                                  "train.max_steps_per_task=1",
                                  "eval.before_task=false",
                                  "device=cpu",
                                  "threads=1",
                                  "data.workers=1",
                                  "cache_dir=" + (d.dir.path / "cache").string()};
    // The preset's own data-set list with the roots filled in (a user sets each stream.datasets[i].root).
    json datasets = read_json_file(find_preset(preset)).at("stream").at("datasets");
    EXPECT_EQ(static_cast<int>(datasets.size()), tasks);
    for (int t = 0; t < tasks; ++t)
        datasets[static_cast<size_t>(t)]["root"] = d.roots[static_cast<size_t>(t % 4)].string();
    o.push_back("stream.datasets=" + datasets.dump());
    if (is_vit(preset)) {
        o.push_back("backbone.weights=" + d.vit_weights.string());
        for (const std::string& s : small_vit_overrides()) o.push_back(s);
    } else {
        o.push_back("backbone.weights=" + d.resnet_weights.string());
        o.push_back("backbone.preset=tiny-resnet");
        o.push_back("data.normalize_mean=[0.5]");
        o.push_back("data.normalize_std=[0.5]");
        o.push_back("method.targets=[\"conv2\"]");
    }
    json variants = json::array();
    const json shipped = read_json_file(find_preset(preset));
    for (const json& v : shipped.at("variants"))
        if (v.at("label") == "merge, rank=1" || v.at("label") == "drop, rank=1" || v.at("label") == "full")
            variants.push_back(v);
    o.push_back("variants=" + variants.dump());
    return o;
}

class SoutifPresetRun : public ::testing::TestWithParam<std::string> {};

std::string preset_case_name(const ::testing::TestParamInfo<std::string>& info) {
    std::string name = info.param;
    std::replace(name.begin(), name.end(), '-', '_');
    return name;
}

}  // namespace

// What the preset declares, read from the document as shipped: the paper's stream, epochs, optimizer,
// ranks, variants and seeds, and the files it needs.
TEST_P(SoutifPresetRun, DeclaresThePapersProtocol) {
    const std::string& name = GetParam();
    const json doc = read_json_file(find_preset(name));
    const ExperimentConfig c = parse_experiment_config(doc);
    EXPECT_EQ(c.foundation.source, FoundationSource::weights);
    EXPECT_EQ(c.stream.type, StreamType::datasets);
    EXPECT_TRUE(c.stream.task_incremental);
    const size_t tasks = is_long(name) ? 8 : 4;
    ASSERT_EQ(c.stream.datasets.size(), tasks);
    const std::vector<int> epochs = {20, 60, 40, 40};
    const std::vector<std::string> domains = {"car", "flower", "airplane", "bird"};
    for (size_t t = 0; t < tasks; ++t) {
        EXPECT_EQ(c.stream.datasets[t].epochs, epochs[t % 4]) << t;
        EXPECT_EQ(c.stream.datasets[t].domain, domains[t % 4]) << t;
        EXPECT_DOUBLE_EQ(c.stream.datasets[t].subset_fraction, is_long(name) ? 0.5 : 1.0) << t;
    }
    EXPECT_EQ(c.seeds, (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(c.method.name, "merged-lora");
    EXPECT_EQ(c.method.targets, (std::vector<std::string>{is_vit(name) ? "qkv" : "conv3"}));
    EXPECT_DOUBLE_EQ(MergedLoRAOptions::from_config(c, c.method.name).dropout, 0.1) << "PEFT's lora_dropout";
    EXPECT_EQ(c.backbone.family, is_vit(name) ? BackboneFamily::vit : BackboneFamily::resnet);
    EXPECT_EQ(c.train.batch_size, 32);
    EXPECT_EQ(c.train.optimizer.name, OptimizerAlgorithm::adamw);
    EXPECT_DOUBLE_EQ(c.train.optimizer.lr, 1e-3);
    EXPECT_DOUBLE_EQ(c.train.optimizer.weight_decay, 1e-2);
    EXPECT_EQ(c.train.schedule.name, ScheduleShape::cosine);
    EXPECT_NEAR(c.train.schedule.warmup_fraction, 1.0 / 18.0, 1e-4);
    // merge and drop at every rank of the paper, and the full control.
    const std::vector<int> ranks =
        is_vit(name) ? std::vector<int>{1, 2, 4, 6, 8, 16, 32} : std::vector<int>{1, 2, 3, 4, 5, 6, 7};
    std::set<std::string> labels;
    for (const VariantSpec& v : c.variants) labels.insert(v.label);
    for (const char* mode : {"merge", "drop"})
        for (int r : ranks) EXPECT_TRUE(labels.count(std::string(mode) + ", rank=" + std::to_string(r))) << mode << r;
    EXPECT_TRUE(labels.count("full"));
    EXPECT_EQ(labels.size(), 2 * ranks.size() + 1);
    // Every path it needs is named in `requires`, and left empty the preflight names each one.
    const PresetNotes notes = read_preset_notes(doc);
    std::set<std::string> required;
    for (const PresetRequirement& r : notes.requirements) required.insert(r.field);
    EXPECT_TRUE(required.count("backbone.weights"));
    EXPECT_TRUE(required.count("foundation.data.root"));
    for (size_t t = 0; t < tasks; ++t) EXPECT_TRUE(required.count("stream.datasets[" + std::to_string(t) + "].root"));
    try {
        (void)preflight_experiment(assemble_config_document("", name, {}));
        FAIL() << "the preflight accepted empty paths";
    } catch (const PreflightError& e) {
        std::set<std::string> subjects;
        for (const PreflightProblem& p : e.problems()) subjects.insert(p.subject);
        for (const std::string& field : required) EXPECT_TRUE(subjects.count(field)) << field << ": " << e.what();
    }
}

// As shipped, pointed at the tiny folders and a small backbone: every run of the three variants
// finishes, each data set is a task with its own head and classes, the task-IL matrix is complete,
// and the ImageNet head's accuracy is recorded before the stream and after every task.
TEST_P(SoutifPresetRun, RunsEndToEndOnFoldersOfItsLayouts) {
    const std::string& name = GetParam();
    const int tasks = is_long(name) ? 8 : 4;
    CheckedExperiment checked = preflight_experiment(assemble_config_document("", name, study_overrides(name)));
    auto recorder = std::make_shared<EventRecorder>();
    RunStatus status = RunStatus::failed;
    {
        TrainingJob job(std::move(checked), recorder);
        status = job.wait();
    }
    EXPECT_EQ(status, RunStatus::finished);
    std::vector<std::string> variants;
    std::vector<std::vector<TaskInfo>> streams;
    std::vector<std::set<std::pair<int, int>>> matrices;  // (after_task, eval_task), task-IL, end of task
    std::vector<std::set<int>> foundation_after;          // after_task of the foundation rows
    std::vector<RunStatus> finished;
    for (const Event& e : recorder->events()) {
        if (const auto* r = std::get_if<RunStarted>(&e)) {
            variants.push_back(r->variant);
            streams.emplace_back();
            matrices.emplace_back();
            foundation_after.emplace_back();
        } else if (const auto* s = std::get_if<StreamDescribed>(&e)) {
            streams.back() = s->tasks;
        } else if (const auto* d = std::get_if<EvaluationDone>(&e)) {
            for (const EvalRow& row : d->rows) {
                if (row.eval_task == kFoundationTask) foundation_after.back().insert(row.after_task);
                if (row.eval_task >= 0 && row.phase == EvalPhase::end_of_task && row.head_mode == HeadMode::task_il)
                    matrices.back().insert({row.after_task, row.eval_task});
            }
        } else if (const auto* f = std::get_if<RunFinished>(&e)) {
            finished.push_back(f->status);
        }
    }
    EXPECT_EQ(variants, (std::vector<std::string>{"merge, rank=1", "drop, rank=1", "full"}));
    ASSERT_EQ(finished.size(), 3u);
    for (size_t i = 0; i < 3; ++i) {
        SCOPED_TRACE(variants[i]);
        EXPECT_EQ(finished[i], RunStatus::finished);
        ASSERT_EQ(static_cast<int>(streams[i].size()), tasks);
        for (int t = 0; t < tasks; ++t) {
            const auto& classes = dataset_classes()[static_cast<size_t>(t % 4)];
            EXPECT_EQ(streams[i][t].classes.size(), classes.size()) << "task " << t;
            EXPECT_EQ(streams[i][t].test_samples, static_cast<int64_t>(classes.size())) << "task " << t;
        }
        EXPECT_EQ(static_cast<int>(matrices[i].size()), tasks * (tasks + 1) / 2);
        std::set<int> expected_foundation = {-1};
        for (int t = 0; t < tasks; ++t) expected_foundation.insert(t);
        EXPECT_EQ(foundation_after[i], expected_foundation);
    }
}

INSTANTIATE_TEST_SUITE_P(SoutifPresets, SoutifPresetRun,
                         ::testing::Values("soutif-vitb-rank-sweep", "soutif-vitb-rank-sweep-long",
                                           "soutif-resnet50-rank-sweep", "soutif-resnet50-rank-sweep-long"),
                         preset_case_name);
