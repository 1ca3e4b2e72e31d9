// Every method's option declaration is what its parser accepts: each declared option is documented,
// accepted at its default and checked against its range or choices; every name outside the
// declaration is refused with the declared names listed; `lorica-cli methods --options --format json`
// prints the same declaration.
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <set>

#include "engine/methods/catalog/method_catalog.h"
#include "engine/methods/method_registry.h"
#include "tests/support/method_options_check.h"

using namespace lorica;

namespace {

// The ConfigError's field, or "" when the method accepts the options.
std::string refused_field(const std::string& method, const nlohmann::json& options, std::string* message = nullptr) {
    const auto check = [](const ExperimentConfig& c) { (void)make_method(c); };
    return lorica::testing::refused_field(check, method, options, message);
}

std::set<std::string> names_of(const MethodOptionSchema& schema) {
    std::set<std::string> out;
    for (const auto& o : schema.options) out.insert(o.name);
    return out;
}

}  // namespace

TEST(MethodOptionSchema, EveryDeclaredOptionIsDocumentedAndAcceptedAtItsDefault) {
    for (const MethodInfo& m : registered_methods()) {
        ASSERT_NE(m.declaration->options, nullptr) << m.declaration->name;
        EXPECT_EQ(refused_field(m.declaration->name, nlohmann::json::object()), "")
            << m.declaration->name << " with no options";
        nlohmann::json all = nlohmann::json::object();
        for (const OptionSpec& o : m.declaration->options->options) {
            EXPECT_FALSE(o.doc.empty()) << m.declaration->name << "." << o.name;
            if (o.type == OptionType::choice) EXPECT_GE(o.choices.size(), 2u) << m.declaration->name << "." << o.name;
            if (o.type == OptionType::integer || o.type == OptionType::number) EXPECT_LE(o.min, o.max) << o.name;
            if (o.default_value.is_null()) continue;  // derived from other options (documented)
            EXPECT_EQ(refused_field(m.declaration->name, {{o.name, o.default_value}}), "")
                << m.declaration->name << "." << o.name;
            all[o.name] = o.default_value;
        }
        EXPECT_EQ(refused_field(m.declaration->name, all), "")
            << m.declaration->name << " with every option at its default";
    }
}

TEST(MethodOptionSchema, NamesOutsideTheDeclarationAreRefusedListingTheDeclaredOnes) {
    std::set<std::string> every_name;
    for (const MethodInfo& m : registered_methods())
        for (const auto& o : m.declaration->options->options) every_name.insert(o.name);
    every_name.insert("no_such_option");
    // The names of the old hand-written GUI list that were never options.
    for (const char* stale :
         {"kd_threshold", "ranks", "mask_scope", "a_seed", "seed_per_task", "merge_weights", "interpolation"})
        every_name.insert(stale);
    for (const MethodInfo& m : registered_methods()) {
        const std::set<std::string> declared = names_of(*m.declaration->options);
        for (const std::string& name : every_name) {
            if (declared.count(name)) continue;
            std::string message;
            EXPECT_EQ(refused_field(m.declaration->name, {{name, 1}}, &message), "method.options." + name)
                << m.declaration->name;
            for (const std::string& d : declared)
                EXPECT_NE(message.find(d), std::string::npos) << m.declaration->name << ": " << message;
        }
    }
}

TEST(MethodOptionSchema, RangesAndChoicesComeFromTheDeclaration) {
    for (const MethodInfo& m : registered_methods()) {
        for (const OptionSpec& o : m.declaration->options->options) {
            const std::string field = "method.options." + o.name;
            switch (o.type) {
                case OptionType::integer:
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, static_cast<int64_t>(o.max) + 1}}), field)
                        << m.declaration->name;
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, static_cast<int64_t>(o.min) - 1}}), field)
                        << m.declaration->name;
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, 1.5}}), field) << m.declaration->name;
                    break;
                case OptionType::number:
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, o.max * 2 + 1}}), field)
                        << m.declaration->name;
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, "1"}}), field) << m.declaration->name;
                    break;
                case OptionType::choice:
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, "not-a-choice"}}), field)
                        << m.declaration->name;
                    break;
                case OptionType::boolean:
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, "yes"}}), field) << m.declaration->name;
                    break;
                case OptionType::rank_schedule:
                    EXPECT_EQ(refused_field(m.declaration->name, {{o.name, {{1, 8}}}}), field + "[0]")
                        << m.declaration->name << ": must start at task 0";
                    break;
            }
        }
    }
}

#ifdef LORICA_CLI_PATH
TEST(MethodOptionSchema, CommandLineListsTheSameDeclaration) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(LORICA_CLI_PATH " methods --options --format json", "r"), pclose);
    ASSERT_TRUE(pipe);
    std::string out;
    char buffer[4096];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe.get())) out.append(buffer, n);
    const nlohmann::json listed = nlohmann::json::parse(out);
    ASSERT_EQ(listed.size(), registered_methods().size());
    for (size_t i = 0; i < listed.size(); ++i) {
        const MethodInfo& m = registered_methods()[i];
        EXPECT_EQ(listed[i]["name"], m.declaration->name);
        EXPECT_EQ(listed[i]["options"], option_schema_json(*m.declaration->options)) << m.declaration->name;
    }
}
#endif

// The torch-free check of `lorica-cli config` and `sweep` (engine/methods/catalog/method_catalog.h) refuses
// exactly what the methods' constructors refuse, with the same field, and lists the same methods.
TEST(MethodOptionSchema, CatalogCheckAgreesWithTheMethodsThemselves) {
    ASSERT_EQ(registered_methods().size(), method_declarations().size());
    auto checked_field = [](const std::string& method, const nlohmann::json& options) {
        const auto check = [](const ExperimentConfig& c) { validate_method_config(c); };
        return lorica::testing::refused_field(check, method, options);
    };
    std::vector<nlohmann::json> cases = {nlohmann::json::object(),
                                         {{"no_such_option", 1}},
                                         {{"a_seed_mode", "per-task"}},
                                         {{"sparsity", 1.0}},
                                         {{"handover", "released-code"}, {"carry_magnitudes", true}},
                                         {{"handover", "released-code"}, {"direction_norm", "product"}},
                                         {{"kd_tau", -1.0}},
                                         {{"update", "full"}}};
    for (const MethodInfo& m : registered_methods())
        for (const OptionSpec& o : m.declaration->options->options) {
            cases.push_back({{o.name, "not-a-value"}});
            if (!o.default_value.is_null()) cases.push_back({{o.name, o.default_value}});
        }
    for (const MethodInfo& m : registered_methods())
        for (const nlohmann::json& options : cases)
            EXPECT_EQ(checked_field(m.declaration->name, options), refused_field(m.declaration->name, options))
                << m.declaration->name << " " << options.dump();
    EXPECT_EQ(checked_field("sd-lroa", nlohmann::json::object()), refused_field("sd-lroa", nlohmann::json::object()));
}
