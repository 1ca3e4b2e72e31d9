// foundation.source = weights: the weights file's own head is the foundation task, evaluated on
// foundation.data (an ImageNet-style folder by synset id, mapped to the head's outputs) before the
// stream and after every task; and the bad input around it (and around data-set streams) reported by
// preflight, every problem at once, naming the field.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "engine/config/experiment_config.h"
#include "engine/data/foundation_data.h"
#include "engine/eval/synset_tables.h"
#include "engine/io/timm_weights.h"
#include "engine/model/backbone_factory.h"
#include "engine/services/experiment_runner.h"
#include "engine/services/preflight.h"
#include "engine/vocabulary/event_listener.h"
#include "tests/support/class_folders.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;

namespace {

std::string wnid(int k) { return std::string(imagenet1k_wnids()[static_cast<size_t>(k)]); }

// A tiny ViT saved with a foundation head of `head_classes` outputs (0 = no head), a validation
// folder of ImageNet synsets 0, 3 and 7 (3 images each), and a two-task data-set stream.
struct WeightsFixture {
    TempDir dir{"foundation-weights"};
    fs::path weights = dir.path / "vit.safetensors";
    fs::path val = dir.path / "val";

    explicit WeightsFixture(int head_classes = 10, std::vector<std::string> synsets = {wnid(0), wnid(3), wnid(7)}) {
        BackboneConfig backbone = parse_experiment_config(config()).backbone;
        Backbone model = make_backbone(backbone, head_classes);
        save_timm_weights(weights.string(), model);
        write_flat_class_folders(val, synsets, 3);
        write_class_folders(dir.path / "a", {"x", "y"}, 4, 2);
        write_class_folders(dir.path / "b", {"u", "v", "w"}, 4, 2, 5);
    }

    nlohmann::json config() const {
        return {{"name", "weights-foundation"},
                {"device", "cpu"},
                {"threads", 1},
                {"cache_dir", (dir.path / "cache").string()},
                {"data", {{"normalize_mean", {0.5}}, {"normalize_std", {0.5}}, {"workers", 1}}},
                {"foundation", {{"source", "weights"}, {"data", {{"root", val.string()}, {"test_per_class", 2}}}}},
                {"stream",
                 {{"type", "datasets"},
                  {"datasets", {{{"root", (dir.path / "a").string()}}, {{"root", (dir.path / "b").string()}}}}}},
                {"backbone", {{"dim", 32}, {"depth", 2}, {"heads", 2}, {"weights", weights.string()}}},
                {"method", {{"name", "frozen-backbone"}}},
                {"train", {{"epochs", 1}, {"batch_size", 8}}},
                {"eval", {{"batch_size", 64}, {"random_init", false}}}};
    }
};

std::vector<PreflightProblem> preflight_problems(const nlohmann::json& doc) {
    try {
        (void)preflight_experiment(doc);
    } catch (const PreflightError& e) {
        return e.problems();
    }
    ADD_FAILURE() << "preflight passed " << doc.dump();
    return {};
}

// The message of the problem about `subject` ("" when there is none).
std::string problem_about(const std::vector<PreflightProblem>& problems, const std::string& subject) {
    for (const auto& p : problems)
        if (p.subject == subject) return p.message;
    return {};
}

}  // namespace

TEST(FoundationWeights, SynsetFoldersMapToTheImageNetHeadOutputs) {
    WeightsFixture f;
    const RawDataset data = load_foundation_data(parse_experiment_config(f.config()).foundation.data, 1);
    EXPECT_EQ(data.num_classes, 1000);
    EXPECT_EQ(data.class_names[3], wnid(3));
    EXPECT_EQ(data.test_labels.size(0), 9);
    std::set<int64_t> labels;
    for (int64_t i = 0; i < data.test_labels.size(0); ++i) labels.insert(data.test_labels[i].item<int64_t>());
    EXPECT_EQ(labels, (std::set<int64_t>{0, 3, 7}));
    EXPECT_TRUE(looks_like_wnid("n01440764"));
    EXPECT_FALSE(looks_like_wnid("n0144076"));
    EXPECT_FALSE(looks_like_wnid("cars"));
}

TEST(FoundationWeights, TheWeightsHeadIsEvaluatedBeforeTheStreamAndAfterEveryTask) {
    WeightsFixture f;
    EventRecorder events;
    CancelToken cancel;
    ASSERT_EQ(run_experiment(preflight_experiment(f.config()).config, events, cancel), RunStatus::finished);

    std::map<int, EvalRow> foundation_rows;               // by after_task
    std::map<int, std::vector<ClassEvalRow>> class_rows;  // by after_task
    std::vector<int> described_foundation;
    bool trained_foundation = false;
    for (const Event& e : events.events()) {
        if (std::holds_alternative<FoundationProgress>(e)) trained_foundation = true;
        if (const auto* w = std::get_if<Warning>(&e))  // the head is loaded, not skipped or left at its init
            EXPECT_EQ(w->message.find("head"), std::string::npos) << w->message;
        if (const auto* d = std::get_if<StreamDescribed>(&e)) described_foundation = d->foundation.classes;
        if (const auto* d = std::get_if<EvaluationDone>(&e)) {
            for (const EvalRow& r : d->rows)
                if (r.eval_task == kFoundationTask && r.phase == EvalPhase::end_of_task)
                    foundation_rows[r.after_task] = r;
            for (const ClassEvalRow& r : d->class_rows) class_rows[r.after_task].push_back(r);
        }
    }
    EXPECT_FALSE(trained_foundation) << "no foundation step: the weights' head is the foundation";
    EXPECT_EQ(described_foundation, (std::vector<int>{0, 3, 7}));
    ASSERT_EQ(foundation_rows.size(), 3u);
    ASSERT_EQ(class_rows.size(), 3u);
    for (int after : {-1, 0, 1}) {
        EXPECT_EQ(foundation_rows[after].total, 6) << "2 images of each of 3 synsets";
        // frozen-backbone: backbone and head never change, so neither does the foundation accuracy.
        EXPECT_EQ(foundation_rows[after].correct, foundation_rows[-1].correct);
        ASSERT_EQ(class_rows[after].size(), 3u);
        std::vector<int> ids;
        for (const ClassEvalRow& r : class_rows[after]) {
            ids.push_back(r.class_id);
            EXPECT_EQ(r.total, 2);
            if (after >= 0) {
                EXPECT_EQ(r.newly_wrong, 0);
                EXPECT_EQ(r.lost_since_start, 0);
            } else {
                EXPECT_EQ(r.newly_wrong, -1);
            }
        }
        EXPECT_EQ(ids, (std::vector<int>{0, 3, 7}));
    }
}

TEST(FoundationWeights, PreflightReportsEveryBadInputAtOnceNamingTheField) {
    WeightsFixture f(10, {wnid(0), "n00000001"});
    nlohmann::json doc = f.config();
    doc["stream"]["datasets"][1]["root"] = (f.dir.path / "missing").string();
    const auto problems = preflight_problems(doc);
    const std::string unknown = problem_about(problems, "foundation.data.root");
    EXPECT_NE(unknown.find("'n00000001' is not an ImageNet-1k synset"), std::string::npos) << unknown;
    const std::string missing = problem_about(problems, "stream.datasets[1].root");
    EXPECT_NE(missing.find((f.dir.path / "missing").string()), std::string::npos) << missing;
}

TEST(FoundationWeights, FoundationClassesBeyondTheHeadAreRefused) {
    WeightsFixture f(5);  // synset 7 has no output in a 5-class head
    const std::string message = problem_about(preflight_problems(f.config()), "foundation.data.root");
    EXPECT_NE(message.find("has 5 outputs"), std::string::npos) << message;
    EXPECT_NE(message.find(wnid(7)), std::string::npos) << message;
}

TEST(FoundationWeights, WeightsWithoutAHeadAreRefused) {
    WeightsFixture f(0);
    const std::string message = problem_about(preflight_problems(f.config()), "backbone.weights");
    EXPECT_NE(message.find("has no head"), std::string::npos) << message;
}

TEST(FoundationWeights, UnsetPathsAndDataSetEntriesWithoutImagesAreRefused) {
    WeightsFixture f;
    nlohmann::json doc = f.config();
    doc["stream"]["datasets"][0].erase("root");
    doc["foundation"]["data"].erase("root");
    doc["backbone"].erase("weights");
    const auto unset = preflight_problems(doc);
    EXPECT_NE(problem_about(unset, "stream.datasets[0].root").find("is required"), std::string::npos);
    EXPECT_NE(problem_about(unset, "foundation.data.root").find("is required"), std::string::npos);
    EXPECT_NE(problem_about(unset, "backbone.weights").find("is required"), std::string::npos);

    doc = f.config();
    fs::create_directories(f.dir.path / "empty" / "train" / "x");
    fs::create_directories(f.dir.path / "empty" / "test" / "x");
    doc["stream"]["datasets"][0]["root"] = (f.dir.path / "empty").string();
    const std::string message = problem_about(preflight_problems(doc), "stream.datasets[0].root");
    EXPECT_NE(message.find((f.dir.path / "empty").string()), std::string::npos) << message;
}

TEST(FoundationWeights, AFileListLabelsTheHeadOutputsDirectly) {
    WeightsFixture f;
    {
        std::ofstream list(f.val / "labels.txt");
        list << "# path label\n" << wnid(0) << "/0.png 4\n" << wnid(3) << "/1.png 9\n" << wnid(7) << "/2.png 4\n";
    }
    FoundationDataConfig config;
    config.root = f.val.string();
    config.file_list = "labels.txt";
    const RawDataset data = load_foundation_data(config, 1);
    ASSERT_EQ(data.test_labels.size(0), 3);
    EXPECT_EQ(data.test_labels[0].item<int64_t>(), 4);
    EXPECT_EQ(data.test_labels[1].item<int64_t>(), 9);
    EXPECT_EQ(data.num_classes, 10);
    EXPECT_EQ(data.class_names[9], wnid(3));  // the parent folder of its first image

    config.file_list = "missing.txt";
    try {
        (void)load_foundation_data(config, 1);
        FAIL() << "no error for a missing list";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "foundation.data.file_list");
    }
}

TEST(FoundationWeights, AClassStreamKeepsItsClassesAndGetsTheWeightsFoundation) {
    WeightsFixture f;
    const fs::path mnist = f.dir.path / "fmnist";
    write_tiny_fashion_mnist(mnist, 10, 4, 2);
    nlohmann::json doc = f.config();
    doc["data"] = {{"root", mnist.string()}, {"train_per_class", 4}, {"test_per_class", 2}};
    doc["stream"] = {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity"}}};
    EventRecorder events;
    CancelToken cancel;
    ASSERT_EQ(run_experiment(preflight_experiment(doc).config, events, cancel), RunStatus::finished);
    const StreamDescribed* described = nullptr;
    std::set<int> foundation_after;
    const std::vector<Event> all = events.events();
    for (const Event& e : all) {
        if (const auto* d = std::get_if<StreamDescribed>(&e)) described = d;
        if (const auto* d = std::get_if<EvaluationDone>(&e))
            for (const EvalRow& r : d->rows)
                if (r.eval_task == kFoundationTask) foundation_after.insert(r.after_task);
    }
    ASSERT_NE(described, nullptr);
    EXPECT_EQ(described->foundation.classes, (std::vector<int>{0, 3, 7}));
    ASSERT_EQ(described->tasks.size(), 2u);
    // No foundation classes are taken from the class order: task 0 starts at order[0].
    EXPECT_EQ(described->tasks[0].train_samples, 2 * 4);
    EXPECT_EQ(foundation_after, (std::set<int>{-1, 0, 1}));
}
