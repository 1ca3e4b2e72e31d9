// Tests of experiment variants and sweeps: parsing, expansion into effective configs, and errors
// that name the variant's field.

#include <gtest/gtest.h>

#include <string>

#include "tests/support/config_errors.h"
#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"

namespace lorica {
namespace {

using nlohmann::json;

using lorica::testing::config_error_of;

TEST(ExperimentVariantsTest, WithoutVariantsExpandsToTheBaseConfig) {
    const ExperimentConfig c = parse_experiment_config(json{{"seeds", {3, 4}}});
    EXPECT_FALSE(has_variants(c));
    const auto v = expand_variants(c);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].label, "");
    EXPECT_EQ(to_json(v[0].config), to_json(c));
    EXPECT_FALSE(to_json(c).contains("variants"));
}

TEST(ExperimentVariantsTest, EachVariantAppliesItsOverridesToTheBase) {
    json doc = {{"seeds", {0, 1, 2}},
                {"train", {{"epochs", 2}}},
                {"variants",
                 {{{"label", "lora"}, {"set", {{"method.name", "sequential-lora"}}}},
                  {{"label", "ft"}, {"set", {{"method.name", "full-finetune"}, {"train.optimizer.lr", 1e-4}}}}}}};
    const ExperimentConfig c = parse_experiment_config(doc);
    ASSERT_TRUE(has_variants(c));
    const auto v = expand_variants(c);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(v[0].label, "lora");
    EXPECT_EQ(v[0].index, 0);
    EXPECT_EQ(v[0].config.method.name, "sequential-lora");
    EXPECT_DOUBLE_EQ(v[0].config.train.optimizer.lr, 5e-4);  // the default, untouched
    EXPECT_EQ(v[1].label, "ft");
    EXPECT_EQ(v[1].index, 1);
    EXPECT_EQ(v[1].config.method.name, "full-finetune");
    EXPECT_DOUBLE_EQ(v[1].config.train.optimizer.lr, 1e-4);
    for (const auto& variant : v) {
        EXPECT_EQ(variant.config.seeds, (std::vector<int64_t>{0, 1, 2}));  // base fields carried over
        EXPECT_EQ(variant.config.train.epochs, 2);
        EXPECT_TRUE(variant.config.variants.empty());
        EXPECT_TRUE(variant.config.sweep.empty());
        EXPECT_EQ(variant.sweep_field, "");
    }
    // The experiment's effective config keeps its variants, and parses back to the same config.
    const json effective = to_json(c);
    ASSERT_TRUE(effective.contains("variants"));
    EXPECT_EQ(effective["variants"][1]["set"]["train.optimizer.lr"], 1e-4);
    EXPECT_EQ(to_json(parse_experiment_config(effective)), effective);
}

TEST(ExperimentVariantsTest, SweepExpandsToLabelledVariantsWithAlphaFollowingRank) {
    json doc = {{"sweep", {{"field", "method.rank"}, {"values", {1, 4, 32}}, {"alpha_per_rank", 2.0}}}};
    const auto v = expand_variants(parse_experiment_config(doc));
    ASSERT_EQ(v.size(), 3u);
    const int ranks[] = {1, 4, 32};
    for (size_t i = 0; i < 3; ++i) {
        EXPECT_EQ(v[i].label, "rank=" + std::to_string(ranks[i]));
        EXPECT_EQ(v[i].sweep_field, "method.rank");
        EXPECT_EQ(v[i].sweep_value, std::to_string(ranks[i]));
        EXPECT_EQ(v[i].config.method.rank, ranks[i]);
        EXPECT_DOUBLE_EQ(v[i].config.method.alpha, 2.0 * ranks[i]);
    }
    // Without alpha_per_rank alpha stays as configured.
    json plain = {{"method", {{"alpha", 3.0}}}, {"sweep", {{"field", "method.rank"}, {"values", {2, 8}}}}};
    const auto w = expand_variants(parse_experiment_config(plain));
    ASSERT_EQ(w.size(), 2u);
    EXPECT_DOUBLE_EQ(w[1].config.method.alpha, 3.0);
    EXPECT_EQ(w[1].config.method.rank, 8);
}

TEST(ExperimentVariantsTest, VariantsCrossedWithASweepAndStringValuesUnquoted) {
    json doc = {
        {"variants", {{{"label", "a"}, {"set", json::object()}}, {{"label", "b"}, {"set", {{"train.epochs", 1}}}}}},
        {"sweep", {{"field", "train.optimizer.name"}, {"values", {"adamw", "sgd"}}}}};
    const auto v = expand_variants(parse_experiment_config(doc));
    ASSERT_EQ(v.size(), 4u);
    EXPECT_EQ(v[0].label, "a, name=adamw");
    EXPECT_EQ(v[3].label, "b, name=sgd");
    EXPECT_EQ(v[3].config.train.optimizer.name, OptimizerAlgorithm::sgd);
    EXPECT_EQ(v[3].config.train.epochs, 1);
    EXPECT_EQ(v[3].sweep_value, "\"sgd\"");
    EXPECT_EQ(v[2].index, 2);
}

TEST(ExperimentVariantsTest, ErrorsNameTheVariantsField) {
    json bad_rank = {
        {"variants",
         {{{"label", "ok"}, {"set", {{"method.rank", 4}}}}, {{"label", "zero"}, {"set", {{"method.rank", 0}}}}}}};
    ConfigError e = config_error_of(bad_rank);
    EXPECT_EQ(e.field(), "variants[1].set.method.rank");
    EXPECT_NE(std::string(e.what()).find("variant 'zero'"), std::string::npos) << e.what();

    json typo = {{"variants", {{{"label", "x"}, {"set", {{"train.epoch", 1}}}}}}};
    EXPECT_EQ(config_error_of(typo).field(), "variants[0].set.train.epoch");

    json duplicate = {{"variants", {{{"label", "x"}}, {{"label", "x"}}}}};
    EXPECT_EQ(config_error_of(duplicate).field(), "variants[1].label");

    json no_label = {{"variants", {{{"set", {{"train.epochs", 1}}}}}}};
    EXPECT_EQ(config_error_of(no_label).field(), "variants[0].label");

    json unknown_key = {{"variants", {{{"label", "x"}, {"sett", json::object()}}}}};
    EXPECT_EQ(config_error_of(unknown_key).field(), "variants[0].sett");

    json nested = {{"variants", {{{"label", "x"}, {"set", {{"sweep.field", "a"}}}}}}};
    EXPECT_EQ(config_error_of(nested).field(), "variants[0].set.sweep.field");

    json empty = {{"variants", json::array()}};
    EXPECT_EQ(config_error_of(empty).field(), "variants");
}

TEST(ExperimentVariantsTest, SweepErrorsNameTheValue) {
    json bad = {{"sweep", {{"field", "method.rank"}, {"values", {4, -1}}}}};
    ConfigError e = config_error_of(bad);
    EXPECT_EQ(e.field(), "sweep.values[1]");
    EXPECT_NE(std::string(e.what()).find("rank=-1"), std::string::npos) << e.what();

    json repeated = {{"sweep", {{"field", "method.rank"}, {"values", {4, 4}}}}};
    EXPECT_EQ(config_error_of(repeated).field(), "sweep.values[1]");

    json no_values = {{"sweep", {{"field", "method.rank"}}}};
    EXPECT_EQ(config_error_of(no_values).field(), "sweep.values");

    json alpha_wrong_field = {{"sweep", {{"field", "train.epochs"}, {"values", {1}}, {"alpha_per_rank", 2.0}}}};
    EXPECT_EQ(config_error_of(alpha_wrong_field).field(), "sweep.alpha_per_rank");

    json unknown_field = {{"sweep", {{"field", "method.ranks"}, {"values", {1}}}}};
    EXPECT_EQ(config_error_of(unknown_field).field(), "sweep.values[0]");
}

}  // namespace
}  // namespace lorica
