// The torch-free config check (engine/methods/catalog/method_catalog.h, config_check.h), linked here without
// LibTorch: every method's options are checked by its declaration, the cross-option rules of the
// methods hold, an unknown method lists the registered ones, and preflight_config collects the
// problems of several fields in one message. (tests/unit/engine/method_option_schema_test.cpp checks
// that the methods' constructors refuse exactly what this check refuses.)
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "engine/config/config_check.h"
#include "engine/config/method_switch.h"
#include "engine/methods/catalog/method_catalog.h"
#include "tests/support/method_options_check.h"

using namespace lorica;

namespace {

// The ConfigError's field, or "" when the check accepts the options.
std::string refused_field(const std::string& method, const nlohmann::json& options, std::string* message = nullptr) {
    const auto check = [](const ExperimentConfig& c) { validate_method_config(c); };
    return lorica::testing::refused_field(check, method, options, message);
}

}  // namespace

TEST(MethodCatalog, ListsEveryRegisteredMethodOnceInOrder) {
    std::vector<std::string> names;
    for (const MethodDeclaration& m : method_declarations()) {
        names.push_back(m.name);
        EXPECT_FALSE(m.summary.empty()) << m.name;
        ASSERT_NE(m.options, nullptr) << m.name;
        ASSERT_NE(m.check_options, nullptr) << m.name;
    }
    const std::vector<std::string> expected = {"sequential-lora", "full-finetune", "frozen-backbone", "sd-lora",
                                               "sd-lora-rr",      "sd-lora-kd",    "lori-d",          "lori-s",
                                               "lori-merge",      "merged-lora",   "merged-lora-ft",  "lora-pm",
                                               "ewc-lora",        "o-lora",        "inflora"};
    EXPECT_EQ(names, expected);
}

TEST(MethodCatalog, EachMethodDeclaresTheOptionsWrittenOutHere) {
    // What `lorica-cli methods --options` and the GUI list (method_catalog), against the option
    // names written out by hand: an option lost, renamed or moved to another method fails here.
    using Names = std::vector<std::string>;
    const Names sd_lora = {"handover",      "magnitude_init", "carry_magnitudes",     "direction_norm",
                           "rank_schedule", "state_every",    "interpolation_points", "accuracy_matrix"};
    Names sd_lora_plain = sd_lora;
    sd_lora_plain.push_back("ablation");  // sd-lora only: sd-lora-rr and sd-lora-kd refuse it
    Names sd_lora_kd = sd_lora;
    for (const char* o : {"kd_tau", "kd_update", "kd_granularity"}) sd_lora_kd.push_back(o);
    const Names lori = {"variant",
                        "mode",
                        "a_seed_mode",
                        "sparsity",
                        "mask_granularity",
                        "sparse_lr_multiplier",
                        "clip_per_tensor",
                        "calibration_head",
                        "merge",
                        "merge_weight"};
    const Names merged = {"after_task", "update", "alpha_per_rank", "dropout"};
    const std::vector<std::pair<std::string, Names>> expected = {
        {"sequential-lora", {"interpolation_points", "dropout"}},
        {"full-finetune", {}},
        {"frozen-backbone", {}},
        {"sd-lora", sd_lora_plain},
        {"sd-lora-rr", sd_lora},
        {"sd-lora-kd", sd_lora_kd},
        {"lori-d", lori},
        {"lori-s", lori},
        {"lori-merge", lori},
        {"merged-lora", merged},
        {"merged-lora-ft", merged},
        {"lora-pm",
         {"alpha_per_rank", "dropout", "epsilon", "p_plus", "p_minus", "fisher_batches", "clamp_coefficient"}},
        {"ewc-lora", {"lambda", "gamma", "fisher_batches", "fold"}},
        {"o-lora", {"lambda_orth", "lambda_l2"}},
        {"inflora", {"lamb", "lame", "feature_batches"}},
    };
    const auto catalog = method_catalog();
    ASSERT_EQ(catalog.size(), expected.size());
    for (size_t i = 0; i < catalog.size(); ++i) {
        EXPECT_EQ(catalog[i].name, expected[i].first);
        EXPECT_FALSE(catalog[i].summary.empty()) << catalog[i].name;
        Names options;
        for (const OptionSpec& o : catalog[i].options.options) options.push_back(o.name);
        EXPECT_EQ(options, expected[i].second) << catalog[i].name;
    }
    // The LoRI family differs in its defaults: LoRI-S is sparse (90 %), LoRI-D dense.
    auto default_of = [&](size_t method, const std::string& option) {
        const OptionSpec* o = catalog[method].options.find(option);
        return o ? o->default_value : nlohmann::json();
    };
    EXPECT_EQ(default_of(6, "variant"), "d");
    EXPECT_EQ(default_of(7, "variant"), "s");
}

TEST(MethodCatalog, UnknownMethodIsRefusedListingTheRegisteredNames) {
    std::string message;
    EXPECT_EQ(refused_field("sd-lroa", nlohmann::json::object(), &message), "method.name");
    for (const MethodDeclaration& m : method_declarations())
        EXPECT_NE(message.find(m.name), std::string::npos) << message;
}

TEST(MethodCatalog, OptionsAreCheckedByTheirDeclaration) {
    for (const MethodDeclaration& m : method_declarations()) {
        EXPECT_EQ(refused_field(m.name, nlohmann::json::object()), "") << m.name;
        EXPECT_EQ(refused_field(m.name, {{"no_such_option", 1}}), "method.options.no_such_option") << m.name;
        for (const OptionSpec& o : m.options->options) {
            const std::string field = "method.options." + o.name;
            if (!o.default_value.is_null()) EXPECT_EQ(refused_field(m.name, {{o.name, o.default_value}}), "") << field;
            if (o.type == OptionType::integer)
                EXPECT_EQ(refused_field(m.name, {{o.name, static_cast<int64_t>(o.max) + 1}}), field) << m.name;
            if (o.type == OptionType::number) EXPECT_EQ(refused_field(m.name, {{o.name, "1"}}), field) << m.name;
            if (o.type == OptionType::choice)
                EXPECT_EQ(refused_field(m.name, {{o.name, "not-a-choice"}}), field) << m.name;
            if (o.type == OptionType::boolean) EXPECT_EQ(refused_field(m.name, {{o.name, "yes"}}), field) << m.name;
        }
    }
}

TEST(MethodCatalog, CrossOptionRulesOfTheMethodsHold) {
    // Continual LoRI continues B on one A; LoRI-S at sparsity 1 would train nothing.
    EXPECT_EQ(refused_field("lori-d", {{"a_seed_mode", "per-task"}}), "method.options.a_seed_mode");
    EXPECT_EQ(refused_field("lori-merge", {{"a_seed_mode", "per-task"}}), "");
    EXPECT_EQ(refused_field("lori-s", {{"sparsity", 1.0}}), "method.options.sparsity");
    EXPECT_EQ(refused_field("lori-d", {{"sparsity", 1.0}}), "");  // dense: the sparsity is unused
    // SD-LoRA's released-code hand-over resets magnitudes and uses factor norms.
    EXPECT_EQ(refused_field("sd-lora", {{"handover", "released-code"}}), "");
    EXPECT_EQ(refused_field("sd-lora", {{"handover", "released-code"}, {"carry_magnitudes", true}}),
              "method.options.carry_magnitudes");
    EXPECT_EQ(refused_field("sd-lora", {{"handover", "released-code"}, {"direction_norm", "product"}}),
              "method.options.direction_norm");
    // The KD options belong to sd-lora-kd only.
    EXPECT_EQ(refused_field("sd-lora-kd", {{"kd_tau", 1e-3}}), "");
    EXPECT_EQ(refused_field("sd-lora", {{"kd_tau", 1e-3}}), "method.options.kd_tau");
}

TEST(ConfigCheck, PreflightConfigCollectsTheProblemsOfSeveralFields) {
    const nlohmann::json doc = {{"threads", -3}, {"method", {{"name", "lori-s"}, {"options", {{"sparsity", 1.0}}}}}};
    try {
        (void)preflight_config(doc);
        FAIL() << "no error";
    } catch (const PreflightError& e) {
        std::set<std::string> subjects;
        for (const auto& p : e.problems()) subjects.insert(p.subject);
        EXPECT_EQ(subjects, (std::set<std::string>{"threads", "method.options.sparsity"})) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("cannot start the experiment: 2 problems", 0), 0u) << e.what();
    }
    const ExperimentConfig ok = preflight_config({{"threads", 2}, {"method", {{"name", "lori-s"}}}});
    EXPECT_EQ(ok.threads, 2);
    EXPECT_EQ(ok.method.name, "lori-s");
}

TEST(ConfigCheck, AVariantsBadMethodOptionIsNamedWithTheVariant) {
    const nlohmann::json doc = {{"method", {{"name", "sd-lora"}}},
                                {"variants",
                                 {{{"label", "plain"}, {"set", nlohmann::json::object()}},
                                  {{"label", "bad"}, {"set", {{"method.options", {{"handover", "sideways"}}}}}}}}};
    try {
        validate_experiment(parse_experiment_config(doc));
        FAIL() << "no error";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field().rfind("variants[1].set.method.options", 0), 0u) << e.field();
        EXPECT_NE(std::string(e.what()).find("variant 'bad'"), std::string::npos) << e.what();
    }
}

// The record's presets are the preset files that run the method: each listed one exists and names
// the method, and every single-method preset (no variants) is listed by its method.
TEST(MethodCatalog, EachRecordListsThePresetsThatRunIt) {
    std::map<std::string, std::string> method_of_preset;  // preset → method.name
    std::set<std::string> single_method;
    for (const auto& entry : std::filesystem::directory_iterator(LORICA_SOURCE_PRESET_DIR)) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path());
        const nlohmann::json doc = nlohmann::json::parse(in);
        const std::string name = entry.path().stem().string();
        method_of_preset[name] = document_method_name(doc);
        if (!doc.contains("variants") && !doc.contains("sweep")) single_method.insert(name);
    }
    std::set<std::string> listed;
    for (const MethodDeclaration& m : method_declarations()) {
        for (const std::string& p : m.presets) {
            ASSERT_TRUE(method_of_preset.count(p)) << m.name << " lists preset " << p << ", which does not exist";
            EXPECT_EQ(method_of_preset[p], m.name) << "preset " << p;
            EXPECT_TRUE(listed.insert(p).second) << p << " is listed twice";
        }
    }
    for (const std::string& p : single_method) EXPECT_TRUE(listed.count(p)) << "preset " << p << " is in no record";
}

// The keys a record declares are what the front ends draw for it: none twice, and every method
// adapts at least one backbone family.
TEST(MethodCatalog, RecordsDeclareEachKeyOnce) {
    for (const MethodDeclaration& m : method_declarations()) {
        EXPECT_EQ(std::set<StateKey>(m.state.begin(), m.state.end()).size(), m.state.size()) << m.name;
        EXPECT_EQ(std::set<AnalysisKey>(m.analyses.begin(), m.analyses.end()).size(), m.analyses.size()) << m.name;
        EXPECT_FALSE(m.backbones.empty()) << m.name;
    }
}
