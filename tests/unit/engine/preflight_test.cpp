// Preflight (engine/services/preflight.h): every problem of the input in one error, before any event;
// the per-class limits it reports, hand-computed from a data set with known counts; the data set it
// loads is the one the run then uses.
#include <gtest/gtest.h>

#include <filesystem>

#include <torch/torch.h>

#include "engine/data/raw_dataset.h"
#include "engine/io/timm_weights.h"
#include "engine/model/vit.h"
#include "engine/services/preflight.h"
#include "engine/services/preloaded_data.h"
#include "engine/services/training_job.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

std::vector<PreflightProblem> problems_of(const json& doc) {
    try {
        (void)preflight_experiment(doc);
    } catch (const PreflightError& e) {
        EXPECT_NE(std::string(e.what()).find("nothing was run or stored"), std::string::npos);
        return e.problems();
    }
    return {};
}

std::vector<std::string> subjects(const std::vector<PreflightProblem>& problems) {
    std::vector<std::string> out;
    for (const auto& p : problems) out.push_back(p.subject);
    return out;
}

std::string message_for(const std::vector<PreflightProblem>& problems, const std::string& subject) {
    for (const auto& p : problems)
        if (p.subject == subject) return p.message;
    return "(no problem for " + subject + ")";
}

struct Fixture {
    TempDir dir{"preflight"};
    Fixture() { write_tiny_fashion_mnist(dir.path / "fm", 10, 12, 6); }
    json config() const { return tiny_run_config(dir.path / "fm", dir.path / "cache"); }
};

}  // namespace

TEST(Preflight, AValidConfigPassesAndHandsOverTheDataItLoaded) {
    Fixture f;
    const CheckedExperiment checked = preflight_experiment(f.config());
    EXPECT_EQ(checked.config.backbone.dim, 32);
    ASSERT_TRUE(checked.data);
    EXPECT_EQ(checked.data->key, dataset_key(checked.config));
    const RawDataset direct = load_raw_dataset(checked.config);
    EXPECT_TRUE(torch::equal(checked.data->raw.train_images, direct.train_images));
    EXPECT_TRUE(torch::equal(checked.data->raw.test_labels, direct.test_labels));
}

TEST(Preflight, CollectsEveryConfigProblemInOneError) {
    Fixture f;
    json doc = f.config();
    doc["threads"] = -3;
    doc["train"]["optimizer"] = {{"lr", -1.0}};
    doc["eval"]["colour"] = "red";
    doc["method"]["options"] = {{"bogus", 1}};
    const auto p = problems_of(doc);
    EXPECT_EQ(subjects(p),
              (std::vector<std::string>{"threads", "train.optimizer.lr", "eval.colour", "method.options.bogus"}));
    EXPECT_NE(message_for(p, "threads").find("-3"), std::string::npos);
    EXPECT_NE(message_for(p, "eval.colour").find("allowed here"), std::string::npos);
}

TEST(Preflight, AnUnknownMethodTakesItsOptionsWithIt) {
    Fixture f;
    json doc = f.config();
    doc["method"] = {{"name", "lora-max"}, {"options", {{"turbo", true}}}};
    EXPECT_EQ(subjects(problems_of(doc)), (std::vector<std::string>{"method.name"})) << "no second error for 'turbo'";
}

TEST(Preflight, ExplicitOptionsAreCheckedAgainstTheNewMethod) {
    Fixture f;
    json doc = f.config();
    doc["method"] = {{"name", "full-finetune"}, {"options", {{"handover", "rescale"}}}};
    EXPECT_EQ(subjects(problems_of(doc)), (std::vector<std::string>{"method.options.handover"}));
}

TEST(Preflight, PerClassLimitsAreTheCountsOfTheDataSet) {
    Fixture f;                           // 12 training and 6 test images in every class
    json doc = f.config();               // foundation: 2 classes × 6 images first
    doc["data"]["train_per_class"] = 7;  // stream classes: 6 left in the foundation's classes, 12 in the others
    doc["data"]["test_per_class"] = 9;
    doc["foundation"]["train_per_class"] = 6;
    auto p = problems_of(doc);
    EXPECT_EQ(subjects(p), (std::vector<std::string>{"data.train_per_class", "data.test_per_class"}));
    EXPECT_NE(message_for(p, "data.train_per_class").find("at most 6"), std::string::npos)
        << message_for(p, "data.train_per_class");
    EXPECT_NE(message_for(p, "data.train_per_class").find("6 of them taken by foundation.train_per_class"),
              std::string::npos);
    EXPECT_NE(message_for(p, "data.test_per_class").find("at most 6"), std::string::npos);

    // Without a foundation step, the stream's classes have all 12.
    doc["foundation"]["enabled"] = false;
    doc["data"]["train_per_class"] = 13;
    doc["data"]["test_per_class"] = 6;
    p = problems_of(doc);
    EXPECT_EQ(subjects(p), (std::vector<std::string>{"data.train_per_class"}));
    EXPECT_NE(message_for(p, "data.train_per_class").find("at most 12"), std::string::npos);
    doc["data"]["train_per_class"] = 12;
    EXPECT_NO_THROW(preflight_experiment(doc));
}

TEST(Preflight, WeightsAreCheckedAgainstTheConfiguredBackbone) {
    Fixture f;
    torch::NoGradGuard no_grad;
    VisionTransformer narrow(ViTOptions().dim(16).depth(2).heads(2));
    save_timm_weights((f.dir.path / "narrow.safetensors").string(), narrow);
    VisionTransformer same(ViTOptions().dim(32).depth(2).heads(2).head_classes(2));
    save_timm_weights((f.dir.path / "same.safetensors").string(), same);

    json doc = f.config();
    doc["backbone"]["weights"] = (f.dir.path / "same.safetensors").string();
    EXPECT_NO_THROW(preflight_experiment(doc));
    doc["backbone"]["weights"] = (f.dir.path / "narrow.safetensors").string();
    auto p = problems_of(doc);
    ASSERT_EQ(subjects(p), (std::vector<std::string>{"backbone.weights"}));
    EXPECT_NE(p[0].message.find("narrow.safetensors"), std::string::npos) << p[0].message;
    doc["backbone"]["weights"] = (f.dir.path / "absent.safetensors").string();
    p = problems_of(doc);
    ASSERT_EQ(subjects(p), (std::vector<std::string>{"backbone.weights"}));
    EXPECT_NE(p[0].message.find("no such file"), std::string::npos);
}

TEST(Preflight, TargetsMustMatchALayer) {
    Fixture f;
    json doc = f.config();
    doc["method"]["targets"] = {"q", "blocks.5.attn.qkv"};  // depth 2: blocks 0 and 1
    auto p = problems_of(doc);
    ASSERT_EQ(subjects(p), (std::vector<std::string>{"method.targets"}));
    EXPECT_NE(p[0].message.find("blocks.5.attn.qkv"), std::string::npos) << p[0].message;
    doc["method"]["targets"] = {"blocks.1.attn.qkv:v", "fc2"};
    EXPECT_NO_THROW(preflight_experiment(doc));
}

TEST(Preflight, DataAndConfigProblemsTogether) {
    Fixture f;
    json doc = f.config();
    doc["threads"] = -3;
    doc["data"]["root"] = (f.dir.path / "missing").string();
    doc["method"]["targets"] = {"blocks.9.mlp.fc1"};
    const auto p = problems_of(doc);
    EXPECT_EQ(subjects(p), (std::vector<std::string>{"threads", "data.root", "method.targets"}));
    EXPECT_NE(message_for(p, "data.root").find((f.dir.path / "missing").string()), std::string::npos);
}

TEST(Preflight, ABadVariantIsNamedWithItsLabel) {
    Fixture f;
    json doc = f.config();
    doc["variants"] = {{{"label", "big"}, {"set", {{"data.train_per_class", 50}}}},
                       {{"label", "fine"}, {"set", {{"method.rank", 1}}}}};
    const auto p = problems_of(doc);
    ASSERT_EQ(subjects(p), (std::vector<std::string>{"data.train_per_class"}));
    EXPECT_NE(p[0].message.find("variant 'big'"), std::string::npos) << p[0].message;
}

TEST(Preflight, AJobWhosePreflightFailsSendsNoEvent) {
    Fixture f;
    json doc = f.config();
    doc["data"]["train_per_class"] = 100;
    auto recorder = std::make_shared<EventRecorder>();
    TrainingJob job(parse_experiment_config(doc), recorder);
    EXPECT_EQ(job.wait(), RunStatus::failed);
    EXPECT_TRUE(recorder->events().empty()) << "nothing may reach the store";
    EXPECT_NE(job.preflight_error().find("data.train_per_class"), std::string::npos) << job.preflight_error();
}
