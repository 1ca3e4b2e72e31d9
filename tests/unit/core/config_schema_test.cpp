// The config's field declaration (engine/config/config_schema.h): it declares every field of the
// document once, the parser refuses exactly what each declaration refuses (range, type, choices), each
// declared choice parses and is written back with its spelling, and the closed sets keep the
// spellings the config accepted before they became enums.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <set>
#include <string>

#include "engine/config/config_schema.h"
#include "engine/methods/catalog/method_catalog.h"

using namespace lorica;
using nlohmann::json;

namespace {

json::json_pointer pointer_of(const std::string& path) {
    std::string p = "/" + path;
    for (char& c : p)
        if (c == '.') c = '/';
    return json::json_pointer(p);
}

// A document that sets only `path`.
json setting(const std::string& path, const json& value) {
    json doc = json::object();
    doc[pointer_of(path)] = value;
    return doc;
}

// The field a ConfigError names ("" when the document is accepted), after parsing and the method check.
std::string refused_field(const json& doc) {
    try {
        validate_method_config(parse_experiment_config(doc));
    } catch (const ConfigError& e) {
        return e.field();
    }
    return "";
}

// Leaf paths of a document, method.options apart.
void collect_leaves(const json& node, const std::string& prefix, std::set<std::string>& out) {
    for (auto it = node.begin(); it != node.end(); ++it) {
        const std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
        if (path == "method.options") continue;
        if (it.value().is_object())
            collect_leaves(it.value(), path, out);
        else
            out.insert(path);
    }
}

}  // namespace

TEST(ConfigSchema, DeclaresEveryFieldOfTheDocumentOnce) {
    std::set<std::string> declared;
    for (const ConfigFieldSpec& f : config_fields()) {
        EXPECT_TRUE(declared.insert(f.path).second) << "declared twice: " << f.path;
        EXPECT_FALSE(f.label.empty()) << f.path;
        EXPECT_FALSE(f.doc.empty()) << f.path;
        EXPECT_EQ(find_config_field(f.path), &f);
    }
    std::set<std::string> leaves;
    collect_leaves(full_config_json(ExperimentConfig{}), "", leaves);
    EXPECT_EQ(declared, leaves);
    // full_config_json adds only the fields to_json leaves out at their defaults.
    std::set<std::string> effective;
    collect_leaves(to_json(ExperimentConfig{}), "", effective);
    std::set<std::string> added;
    for (const auto& p : leaves)
        if (!effective.count(p)) added.insert(p);
    // Speed knobs, and the fields of the newer foundation source, ResNets, head initialisation and
    // analyses (written when used).
    EXPECT_EQ(added, (std::set<std::string>{
                         "data.cache_mb", "data.workers", "data.prepared", "foundation.source", "foundation.data.root",
                         "foundation.data.file_list", "foundation.data.test_per_class", "backbone.freeze_batchnorm",
                         "train.head_init", "analysis.low_loss_region", "analysis.low_loss_update"}));
    EXPECT_EQ(find_config_field("train.optimizer.nmae"), nullptr);
    EXPECT_THROW((void)config_field("database"), std::logic_error);
}

TEST(ConfigSchema, TheParserRefusesWhatTheDeclarationRefuses) {
    for (const ConfigFieldSpec& f : config_fields()) {
        const std::string& p = f.path;
        SCOPED_TRACE(p);
        switch (f.type) {
            case ConfigFieldType::boolean:
                EXPECT_EQ(refused_field(setting(p, "yes")), p);
                for (bool value : {false, true}) EXPECT_EQ(refused_field(setting(p, value)), "") << value;
                break;
            case ConfigFieldType::integer:
                EXPECT_EQ(refused_field(setting(p, 1.5)), p);
                EXPECT_EQ(refused_field(setting(p, static_cast<int64_t>(f.min) - 1)), p);
                if (std::isfinite(f.max)) EXPECT_EQ(refused_field(setting(p, static_cast<int64_t>(f.max) + 1)), p);
                if (f.nullable) EXPECT_EQ(refused_field(setting(p, nullptr)), "");
                break;
            case ConfigFieldType::number:
                EXPECT_EQ(refused_field(setting(p, "1")), p);
                EXPECT_EQ(refused_field(setting(p, f.min - 1.0)), p);
                ASSERT_TRUE(std::isfinite(f.max));
                EXPECT_EQ(refused_field(setting(p, 2.0 * f.max + 1.0)), p);
                break;
            case ConfigFieldType::text:
                EXPECT_EQ(refused_field(setting(p, 3)), p);
                break;
            case ConfigFieldType::choice:
                EXPECT_EQ(refused_field(setting(p, "not-a-choice")), p);
                EXPECT_EQ(refused_field(setting(p, 3)), p);
                for (const std::string& choice : f.choices) {
                    json document = setting(p, choice);
                    if (p == "stream.type" && choice == "datasets")  // a data-set stream lists its data sets
                        document["stream"]["datasets"] = json::array({json{{"root", "/data/cars"}}});
                    EXPECT_EQ(refused_field(document), "") << choice;
                    // Parsed into the enum and written back with the same spelling.
                    EXPECT_EQ(full_config_json(parse_experiment_config(document))[pointer_of(p)], choice);
                }
                break;
            case ConfigFieldType::integer_list:
                EXPECT_EQ(refused_field(setting(p, {static_cast<int64_t>(f.min) - 1})), p + "[0]");
                break;
            case ConfigFieldType::number_list:
                EXPECT_EQ(refused_field(setting(p, {2.0 * f.max + 1.0})), p + "[0]");
                EXPECT_EQ(refused_field(setting(p, {f.min - 1.0})), p + "[0]");
                break;
            case ConfigFieldType::text_list:
                EXPECT_EQ(refused_field(setting(p, {3})), p + "[0]");
                break;
            case ConfigFieldType::choice_list:
                EXPECT_EQ(refused_field(setting(p, {f.choices.front(), "not-a-choice"})), p + "[1]");
                for (const std::string& choice : f.choices)
                    EXPECT_EQ(to_json(parse_experiment_config(setting(p, {choice})))[pointer_of(p)], json({choice}));
                break;
        }
    }
}

TEST(ConfigSchema, ClosedSetsKeepTheirSpellings) {
    using Choices = std::vector<std::string>;
    EXPECT_EQ(config_field("train.optimizer.name").choices, (Choices{"adamw", "adam", "sgd"}));
    EXPECT_EQ(config_field("foundation.optimizer.name").choices, (Choices{"adamw", "adam", "sgd"}));
    EXPECT_EQ(config_field("train.schedule.name").choices, (Choices{"constant", "cosine"}));
    EXPECT_EQ(config_field("train.loss").choices, (Choices{"current-task", "all-seen"}));
    EXPECT_EQ(config_field("data.dataset").choices, (Choices{"fashion-mnist", "cifar10", "cifar100", "image-folder"}));
    EXPECT_EQ(config_field("data.cifar100_labels").choices, (Choices{"fine", "coarse"}));
    EXPECT_EQ(config_field("stream.domains").choices,
              (Choices{"identity", "rot90", "rot180", "rot270", "invert", "hflip", "vflip", "patch_permute"}));
    EXPECT_EQ(config_field("train.precision").choices, (Choices{"fp32", "bf16", "fp16"}));
    Choices methods;
    for (const MethodDeclaration& m : method_declarations()) methods.push_back(m.name);
    EXPECT_EQ(config_field("method.name").choices, methods);
    // An unknown optimizer names its field and lists the three.
    try {
        (void)parse_experiment_config({{"train", {{"optimizer", {{"name", "lamb"}}}}}});
        FAIL() << "lamb accepted";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "train.optimizer.name");
        EXPECT_NE(std::string(e.what()).find("adamw, adam, sgd"), std::string::npos) << e.what();
    }
    const ExperimentConfig c = parse_experiment_config(
        {{"train", {{"optimizer", {{"name", "sgd"}}}, {"schedule", {{"name", "cosine"}}}, {"loss", "all-seen"}}}});
    EXPECT_EQ(c.train.optimizer.name, OptimizerAlgorithm::sgd);
    EXPECT_EQ(c.train.schedule.name, ScheduleShape::cosine);
    EXPECT_EQ(c.train.loss, LossScope::all_seen);
    EXPECT_EQ(c.foundation.optimizer.name, OptimizerAlgorithm::adamw);
    EXPECT_EQ(c.foundation.schedule.name, ScheduleShape::cosine);
}

TEST(ConfigSchema, RangesAndTextAreReadable) {
    EXPECT_EQ(config_field("train.optimizer.lr").range_text(), "[0, 10]");
    EXPECT_EQ(config_field("data.train_per_class").range_text(), "[0, ∞)");
    EXPECT_EQ(config_field("name").range_text(), "");
    EXPECT_EQ(config_field("train.optimizer.lr").section(), "train");
    EXPECT_EQ(config_field("seeds").section(), "");
    const json listed = config_fields_json();
    ASSERT_EQ(listed.size(), config_fields().size());
    EXPECT_EQ(listed[0]["path"], "name");
    const std::string text = config_fields_text();
    EXPECT_NE(text.find("stream.class_order_seed"), std::string::npos);
    EXPECT_NE(text.find("Learning rate: "), std::string::npos);
}
