// A preset's description and file requirements (engine/config/preset_notes.h): read and validated
// with errors naming the key, accepted by the config parser without becoming part of the effective
// config (a run's config hash does not change with them).
#include <gtest/gtest.h>

#include "engine/config/experiment_config.h"
#include "engine/config/preset_notes.h"
#include "tests/support/config_errors.h"

using namespace lorica;
using namespace lorica::testing;
using json = nlohmann::json;

TEST(PresetNotes, DescriptionAndRequirementsAreRead) {
    const json doc = {{"description", "one line"},
                      {"requires", {{"data.root", "folders"}, {"backbone.weights", "a safetensors file"}}}};
    const PresetNotes notes = read_preset_notes(doc);
    EXPECT_EQ(notes.description, "one line");
    ASSERT_EQ(notes.requirements.size(), 2u);
    EXPECT_EQ(notes.requirements[0].field, "backbone.weights");  // nlohmann::json keeps keys sorted
    EXPECT_EQ(notes.requirements[0].expected, "a safetensors file");
    EXPECT_EQ(notes.requirements[1].field, "data.root");
    EXPECT_TRUE(read_preset_notes(json::object()).requirements.empty());
    EXPECT_TRUE(read_preset_notes(json::object()).description.empty());
}

TEST(PresetNotes, TheParserAcceptsThemAndTheEffectiveConfigLeavesThemOut) {
    const json plain = {{"train", {{"epochs", 2}}}};
    json noted = plain;
    noted["description"] = "documented";
    noted["requires"] = {{"data.root", "a folder"}};
    const ExperimentConfig a = parse_experiment_config(plain), b = parse_experiment_config(noted);
    EXPECT_EQ(to_json(a), to_json(b));
    EXPECT_EQ(config_hash(to_json(a)), config_hash(to_json(b)));
    EXPECT_FALSE(to_json(b).contains("description"));
    EXPECT_FALSE(to_json(b).contains("requires"));
}

TEST(PresetNotes, MalformedNotesAreConfigErrorsNamingTheKey) {
    EXPECT_EQ(config_error_of({{"description", 3}}).field(), "description");
    EXPECT_EQ(config_error_of({{"requires", "data.root"}}).field(), "requires");
    const ConfigError unknown = config_error_of({{"requires", {{"train.epochs", "three"}}}});
    EXPECT_EQ(unknown.field(), "requires.train.epochs");
    EXPECT_NE(std::string(unknown.what()).find("allowed: data.root, data.file_list, backbone.weights"),
              std::string::npos);
    EXPECT_EQ(config_error_of({{"requires", {{"data.root", ""}}}}).field(), "requires.data.root");
    EXPECT_EQ(config_error_of({{"requires", {{"backbone.weights", 1}}}}).field(), "requires.backbone.weights");
}

TEST(PresetNotes, ADataRootRequirementCoversEveryNameTheLoaderReportsItUnder) {
    EXPECT_TRUE(requirement_covers("data.root", "data.root"));
    EXPECT_TRUE(requirement_covers("data.root", "data.file_list"));
    EXPECT_TRUE(requirement_covers("data.root", "data.dataset"));
    EXPECT_FALSE(requirement_covers("data.root", "backbone.weights"));
    EXPECT_TRUE(requirement_covers("backbone.weights", "backbone.weights"));
    EXPECT_FALSE(requirement_covers("backbone.weights", "backbone.image_size"));
}
