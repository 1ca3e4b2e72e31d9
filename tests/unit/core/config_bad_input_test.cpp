// Config input that must be refused (numeric ranges, device names) and the method-switch rule for
// overrides and variants (method_switch.h).
#include <gtest/gtest.h>

#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/config/method_switch.h"
#include "engine/config/presets.h"
#include "tests/support/config_errors.h"

using namespace lorica;
using nlohmann::json;

namespace {

// The field the document's ConfigError names (tests/support/config_errors.h: a failure when none).
std::string field_of(const json& doc) { return lorica::testing::config_error_of(doc).field(); }

}  // namespace

TEST(ConfigBadInput, NegativeThreadsAreRefusedInTheFileAndThroughAnOverride) {
    EXPECT_EQ(field_of({{"threads", -3}}), "threads");
    json doc = json::object();
    apply_override(doc, "threads=-3");
    EXPECT_EQ(doc["threads"], -3);
    EXPECT_EQ(field_of(doc), "threads");
    EXPECT_EQ(field_of({{"threads", 1025}}), "threads");
    EXPECT_EQ(parse_experiment_config({{"threads", 4}}).threads, 4);
}

TEST(ConfigBadInput, IntegersBeyondTheFieldsTypeAreRefusedNotWrapped) {
    // 2^32 + 2 would wrap to 2 in an int field.
    EXPECT_EQ(field_of({{"foundation", {{"classes", 4294967298LL}}}}), "foundation.classes");
    EXPECT_EQ(field_of({{"stream", {{"classes_per_task", 4294967298LL}}}}), "stream.classes_per_task");
    // Past int64: an unsigned JSON integer.
    EXPECT_EQ(field_of(json::parse(R"({"data": {"train_per_class": 18446744073709551615}})")), "data.train_per_class");
    EXPECT_EQ(field_of({{"train", {{"max_steps_per_task", -1}}}}), "train.max_steps_per_task");
    EXPECT_EQ(field_of({{"eval", {{"every_steps", -1}}}}), "eval.every_steps");
}

TEST(ConfigBadInput, DeviceNamesAreCheckedBySyntax) {
    for (const char* ok : {"auto", "cpu", "cuda", "cuda:0", "cuda:12"})
        EXPECT_EQ(parse_experiment_config({{"device", ok}}).device, ok);
    for (const char* bad : {"tpu", "cuda:", "cuda:x", "cudax", "cuda:1:2", "CPU", ""})
        EXPECT_EQ(field_of({{"device", bad}}), "device") << bad;
}

TEST(ConfigBadInput, ImageFolderResizeBelowTheCropIsRefused) {
    json doc = {{"data", {{"dataset", "image-folder"}, {"root", "/x"}, {"resize_size", 100}}},
                {"backbone", {{"preset", "vit_tiny_patch16_224"}}}};
    EXPECT_EQ(field_of(doc), "data.resize_size");
    doc["data"]["resize_size"] = 224;
    EXPECT_NO_THROW(parse_experiment_config(doc));
    doc["data"]["resize_size"] = 0;
    EXPECT_NO_THROW(parse_experiment_config(doc));
}

TEST(MethodSwitch, ChangingTheMethodDropsThePreviousOptionsWithANote) {
    json doc = {{"method", {{"name", "sd-lora"}, {"options", {{"handover", "rescale"}}}}}};
    apply_override(doc, "method.name=full-finetune");
    const std::string note = drop_replaced_method_options(doc, "sd-lora", {"method.name"});
    EXPECT_FALSE(doc["method"].contains("options"));
    EXPECT_NE(note.find("'sd-lora' to 'full-finetune'"), std::string::npos) << note;
    EXPECT_NE(note.find("handover"), std::string::npos) << note;
}

TEST(MethodSwitch, ExplicitOptionsOrTheSameNameKeepTheOptions) {
    const json start = {{"method", {{"name", "sd-lora"}, {"options", {{"handover", "rescale"}}}}}};
    json doc = start;
    apply_override(doc, "method.name=sd-lora-kd");
    apply_override(doc, "method.options.handover=keep");
    EXPECT_EQ(drop_replaced_method_options(doc, "sd-lora", {"method.name", "method.options.handover"}), "");
    EXPECT_EQ(doc["method"]["options"], (json{{"handover", "keep"}}));

    doc = start;
    EXPECT_EQ(drop_replaced_method_options(doc, "sd-lora", {"method.name"}), "") << "the name did not change";
    EXPECT_EQ(doc, start);
    doc = start;
    EXPECT_EQ(drop_replaced_method_options(doc, "sd-lora", {"method.rank"}), "") << "no method.name override";
    EXPECT_EQ(doc, start);
    EXPECT_TRUE(sets_method_options("method"));
    EXPECT_TRUE(sets_method_options("method.options"));
    EXPECT_TRUE(sets_method_options("method.options.x"));
    EXPECT_FALSE(sets_method_options("method.optionsx"));
    EXPECT_FALSE(sets_method_options("method.name"));
}

TEST(MethodSwitch, TheDefaultPresetSwitchedToFullFinetuneParses) {
    const AssembledConfig a = assemble_config("", "default", {"method.name=full-finetune"});
    ASSERT_EQ(a.notes.size(), 1u);
    EXPECT_NE(a.notes[0].find("handover"), std::string::npos);
    const ExperimentConfig c = parse_experiment_config(a.document);
    EXPECT_EQ(c.method.name, "full-finetune");
    EXPECT_TRUE(c.method.options.empty());
    // Without the switch the preset keeps its options, and no note is given.
    const AssembledConfig plain = assemble_config("", "default", {"train.epochs=1"});
    EXPECT_TRUE(plain.notes.empty());
    EXPECT_EQ(parse_experiment_config(plain.document).method.options, (json{{"handover", "rescale"}}));
}

TEST(MethodSwitch, AVariantThatSwitchesTheMethodStartsFromItsDefaultOptions) {
    const json doc = {
        {"method", {{"name", "sd-lora"}, {"options", {{"handover", "rescale"}}}}},
        {"variants",
         {{{"label", "ft"}, {"set", {{"method.name", "full-finetune"}}}},
          {{"label", "kd"}, {"set", {{"method.name", "sd-lora-kd"}, {"method.options", {{"handover", "keep"}}}}}},
          {{"label", "same"}, {"set", {{"method.rank", 4}}}}}}};
    const auto variants = expand_variants(parse_experiment_config(doc));
    ASSERT_EQ(variants.size(), 3u);
    EXPECT_TRUE(variants[0].config.method.options.empty());
    EXPECT_EQ(variants[1].config.method.options, (json{{"handover", "keep"}}));
    EXPECT_EQ(variants[2].config.method.options, (json{{"handover", "rescale"}}));
}
