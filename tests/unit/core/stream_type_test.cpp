// stream.type (StreamType, engine/config/experiment_config.h): its config spellings read and write
// back exactly, a wrong one names the field with the allowed spellings, and make_stream_spec
// (engine/stream/stream_spec.h) cuts the class order as each type promises.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "engine/config/experiment_config.h"
#include "engine/stream/stream_spec.h"

using namespace lorica;
using nlohmann::json;

namespace {

ExperimentConfig stream_config(const std::string& type) {
    return parse_experiment_config(
        {{"stream", {{"type", type}, {"tasks", 3}, {"classes_per_task", 2}, {"domains", {"rot90", "invert"}}}}});
}

std::vector<int> slice(const std::vector<int>& v, int first, int count) {
    return {v.begin() + first, v.begin() + first + count};
}

}  // namespace

TEST(StreamType, SpellingsReadAndWriteBack) {
    EXPECT_EQ(parse_experiment_config(json::object()).stream.type, StreamType::class_incremental);
    for (const auto& [type, spelling] : kStreamTypeNames) {
        if (type == StreamType::datasets) continue;  // needs its data sets: StreamType.ADataSetStreamListsItsTasks
        const ExperimentConfig c = stream_config(std::string(spelling));
        EXPECT_EQ(c.stream.type, type) << spelling;
        EXPECT_EQ(to_json(c)["stream"]["type"], std::string(spelling));
        EXPECT_EQ(parse_experiment_config(to_json(c)).stream.type, type) << spelling;
    }
}

TEST(StreamType, ADataSetStreamListsItsTasks) {
    json doc = {{"stream",
                 {{"type", "datasets"},
                  {"datasets",
                   {{{"name", "Cars"}, {"root", "/data/cars"}, {"epochs", 20}, {"domain", "car"}},
                    {{"dataset", "cifar100"}, {"root", "/data/cifar"}, {"subset_fraction", 0.5}}}}}}};
    const ExperimentConfig c = parse_experiment_config(doc);
    EXPECT_EQ(c.stream.type, StreamType::datasets);
    EXPECT_EQ(c.stream.tasks, 2);  // one task per entry
    json with_tasks = doc;
    with_tasks["stream"]["tasks"] = 5;  // the set-up form's value beside the list: the list decides
    EXPECT_EQ(parse_experiment_config(with_tasks).stream.tasks, 2);
    EXPECT_EQ(to_json(parse_experiment_config(with_tasks))["stream"]["tasks"], 2);
    ASSERT_EQ(c.stream.datasets.size(), 2u);
    EXPECT_EQ(c.stream.datasets[0].dataset, DatasetId::image_folder);
    EXPECT_EQ(c.stream.datasets[0].epochs, 20);
    EXPECT_EQ(c.stream.datasets[0].domain, "car");
    EXPECT_EQ(c.stream.datasets[1].dataset, DatasetId::cifar100);
    EXPECT_DOUBLE_EQ(c.stream.datasets[1].subset_fraction, 0.5);
    // The effective config round-trips.
    const ExperimentConfig again = parse_experiment_config(to_json(c));
    EXPECT_EQ(to_json(again), to_json(c));

    // Errors name the field.
    auto field_of = [](json d) {
        try {
            (void)parse_experiment_config(d);
        } catch (const ConfigError& e) {
            return e.field();
        }
        return std::string("(accepted)");
    };
    json bad = doc;
    bad["stream"]["datasets"][1]["subset_fraction"] = 0.0;
    EXPECT_EQ(field_of(bad), "stream.datasets[1].subset_fraction");
    bad = doc;
    bad["stream"]["datasets"][0]["colour"] = "red";
    EXPECT_EQ(field_of(bad), "stream.datasets[0].colour");
    bad = doc;
    bad["stream"]["datasets"] = json::array();
    EXPECT_EQ(field_of(bad), "stream.datasets");
    bad = doc;
    bad["stream"]["type"] = "class-incremental";
    EXPECT_EQ(field_of(bad), "stream.datasets");  // entries without the type that reads them
}

TEST(StreamType, AWrongSpellingNamesTheFieldAndTheAllowedOnes) {
    try {
        stream_config("task-incremental");
        FAIL() << "no ConfigError";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "stream.type");
        EXPECT_NE(std::string(e.what()).find("allowed: class-incremental, domain-incremental"), std::string::npos)
            << e.what();
    }
}

TEST(StreamType, ClassIncrementalTasksTakeConsecutiveClassesEachWithItsHead) {
    const StreamSpec spec = make_stream_spec(stream_config("class-incremental"), 7, 10);
    EXPECT_EQ(spec.type, StreamType::class_incremental);
    ASSERT_EQ(spec.tasks.size(), 3u);
    EXPECT_EQ(spec.num_heads, 3);
    for (int t = 0; t < 3; ++t) {
        EXPECT_EQ(spec.tasks[t].classes, slice(spec.class_order, 2 * t, 2)) << t;
        EXPECT_EQ(spec.tasks[t].head, t);
    }
}

TEST(StreamType, DomainIncrementalTasksShareTheFirstClassesAndOneHeadUnderCycledDomains) {
    const StreamSpec spec = make_stream_spec(stream_config("domain-incremental"), 7, 10);
    EXPECT_EQ(spec.type, StreamType::domain_incremental);
    ASSERT_EQ(spec.tasks.size(), 3u);
    EXPECT_EQ(spec.num_heads, 1);
    const std::vector<std::string> domains = {"rot90", "invert", "rot90"};
    for (int t = 0; t < 3; ++t) {
        EXPECT_EQ(spec.tasks[t].classes, slice(spec.class_order, 0, 2)) << t;
        EXPECT_EQ(spec.tasks[t].head, 0);
        EXPECT_EQ(spec.tasks[t].domain, domains[t]);
    }
}
