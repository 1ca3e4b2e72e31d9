// The experiment config: defaults, round trip, overrides, and errors that name the field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/config/experiment_config.h"
#include "engine/config/presets.h"
#include "tests/support/config_errors.h"

using namespace lorica;
using nlohmann::json;

namespace {

// "field | message" of the document's ConfigError (tests/support/config_errors.h: a failure when none).
std::string error_of(const json& doc) {
    const ConfigError e = lorica::testing::config_error_of(doc);
    return std::string(e.field()) + " | " + e.what();
}

}  // namespace

TEST(Config, DefaultsAreTheEmbeddedDefaultExperiment) {
    ExperimentConfig c = parse_experiment_config(json::object());
    EXPECT_EQ(c.data.dataset, DatasetId::fashion_mnist);
    EXPECT_EQ(c.foundation.classes, 5);
    EXPECT_EQ(c.foundation.train_per_class, 3000);
    EXPECT_EQ(c.data.train_per_class, 2000);
    EXPECT_EQ(c.stream.tasks, 5);
    EXPECT_EQ(c.stream.classes_per_task, 2);
    EXPECT_EQ(c.stream.domains,
              (std::vector<DomainTransform>{DomainTransform::rot90, DomainTransform::invert, DomainTransform::rot180,
                                            DomainTransform::patch_permute, DomainTransform::rot270}));
    EXPECT_EQ(c.backbone.dim, 64);
    EXPECT_EQ(c.backbone.patch_size, 7);
    EXPECT_EQ(c.method.rank, 8);
    EXPECT_DOUBLE_EQ(c.method.alpha, 8.0);
    EXPECT_DOUBLE_EQ(c.train.optimizer.lr, 5e-4);
    EXPECT_DOUBLE_EQ(c.train.optimizer.head_lr, 2e-3);
    EXPECT_DOUBLE_EQ(c.foundation.optimizer.weight_decay, 0.05);
}

TEST(Config, JsonRoundTripIsExact) {
    ExperimentConfig c = parse_experiment_config(json::object());
    json once = to_json(c);
    json twice = to_json(parse_experiment_config(once));
    EXPECT_EQ(once, twice);
    EXPECT_EQ(config_hash(once), config_hash(twice));
    once["train"]["epochs"] = 4;
    EXPECT_NE(config_hash(once), config_hash(twice));
}

TEST(Config, UnknownFieldIsNamedWithAllowedNames) {
    std::string e = error_of({{"train", {{"epohcs", 3}}}});
    EXPECT_NE(e.find("train.epohcs"), std::string::npos) << e;
    EXPECT_NE(e.find("unknown field"), std::string::npos) << e;
    EXPECT_NE(e.find("epochs"), std::string::npos) << "lists the allowed names: " << e;
}

TEST(Config, WrongTypesAndRangesNameTheField) {
    EXPECT_NE(error_of({{"method", {{"rank", -3}}}}).find("method.rank"), std::string::npos);
    EXPECT_NE(error_of({{"method", {{"rank", "eight"}}}}).find("must be an integer"), std::string::npos);
    EXPECT_NE(error_of({{"train", {{"optimizer", {{"lr", "fast"}}}}}}).find("train.optimizer.lr"), std::string::npos);
    std::string e = error_of({{"train", {{"optimizer", {{"name", "lion"}}}}}});
    EXPECT_NE(e.find("adamw, adam, sgd"), std::string::npos) << e;
    EXPECT_NE(error_of({{"stream", {{"domains", {"rot45"}}}}}).find("stream.domains[0]"), std::string::npos);
    EXPECT_NE(error_of({{"stream", {{"tasks", 6}}}}).find("exceeds the 10 classes"), std::string::npos);
    EXPECT_NE(error_of({{"backbone", {{"patch_size", 5}}}}).find("backbone.patch_size"), std::string::npos);
    EXPECT_NE(error_of({{"device", "tpu"}}).find("device"), std::string::npos);
    EXPECT_NE(error_of({{"seeds", json::array()}}).find("seeds"), std::string::npos);
    EXPECT_NE(error_of({{"method", {{"targets", {"q", "bad target!"}}}}}).find("method.targets[1]"), std::string::npos);
}

TEST(Config, OverridesParseJsonOrString) {
    json doc = json::object();
    apply_override(doc, "train.epochs=1");
    apply_override(doc, "seeds=[0,1,2]");
    apply_override(doc, "method.name=full-finetune");
    apply_override(doc, "method.options.handover=rescale");
    EXPECT_EQ(doc["train"]["epochs"], 1);
    EXPECT_EQ(doc["seeds"], json({0, 1, 2}));
    EXPECT_EQ(doc["method"]["name"], "full-finetune");
    EXPECT_EQ(doc["method"]["options"]["handover"], "rescale");
    EXPECT_THROW(apply_override(doc, "no-equals-sign"), ConfigError);
    ExperimentConfig c = parse_experiment_config({{"train", {{"epochs", 1}}}, {"seeds", {0, 1, 2}}});
    EXPECT_EQ(c.seeds.size(), 3u);
}

TEST(Config, BackbonePresetSetsTimmSizes) {
    ExperimentConfig c =
        parse_experiment_config({{"backbone", {{"preset", "vit_base_patch16_224"}}},
                                 {"data", {{"normalize_mean", {0.5, 0.5, 0.5}}, {"normalize_std", {0.5, 0.5, 0.5}}}}});
    EXPECT_EQ(c.backbone.dim, 768);
    EXPECT_EQ(c.backbone.depth, 12);
    EXPECT_EQ(c.backbone.image_size, 224);
    EXPECT_NE(error_of({{"backbone", {{"preset", "vit_huge"}}}}).find("vit_base_patch16_224"), std::string::npos);
}

TEST(Config, EveryShippedPresetParses) {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(LORICA_SOURCE_PRESET_DIR)) {
        if (entry.path().extension() != ".json") continue;
        ++count;
        EXPECT_NO_THROW(parse_experiment_config(read_json_file(entry.path().string()))) << entry.path();
    }
    EXPECT_GE(count, 1);
    EXPECT_NO_THROW(find_preset("default"));
    EXPECT_THROW(find_preset("no-such-preset"), ConfigError);
}

TEST(Config, MalformedFileNamesTheFile) {
    auto path = std::filesystem::temp_directory_path() / "lorica-test-bad-config.json";
    {
        std::ofstream out(path);
        out << "{\"train\": {\"epochs\": 3,}";
    }
    try {
        load_experiment_config(path.string());
        FAIL() << "expected an error";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
    }
    std::filesystem::remove(path);
}
