// RunFacts (engine/vocabulary/run_facts.h): built once from a config (run_facts_of_config.h), stored
// with the run (runs.facts_json, run_facts_json.h) and read back equal; a database of the schema
// before them gets each run's facts derived from its stored config by the migration; and no front end
// (app/, widgets/, cli/) parses a run's config_json for them.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "engine/config/dataset_catalog.h"
#include "engine/config/experiment_config.h"
#include "engine/config/run_facts_of_config.h"
#include "engine/store/run_facts_json.h"
#include "engine/store/run_store.h"
#include "engine/store/schema.h"
#include "engine/store/sqlite_db.h"
#include "tests/support/old_schema_database.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

using lorica::testing::insert_old_finished_run;
using lorica::testing::TempDir;
using lorica::testing::write_database_of_version;

TEST(RunFacts, OfAClassIncrementalConfig) {
    ExperimentConfig c;  // the default experiment: Fashion-MNIST, 5 tasks × 2 classes, 3 epochs
    const RunFacts f = run_facts(c);
    EXPECT_EQ(f.method, "sequential-lora");
    EXPECT_EQ(f.variant, "");
    EXPECT_EQ(f.stream_type, StreamType::class_incremental);
    EXPECT_EQ(f.tasks, 5);
    EXPECT_EQ(f.classes_per_task, 2);
    EXPECT_EQ(f.epochs_per_task, (std::vector<int>{3, 3, 3, 3, 3}));
    EXPECT_EQ(f.primary_head_mode, HeadMode::class_il);
    EXPECT_EQ(f.dataset, "fashion-mnist");
    EXPECT_EQ(f.class_names, dataset_class_names(DatasetId::fashion_mnist));
    EXPECT_EQ(f.class_names[9], "Ankle boot");
    EXPECT_EQ(f.backbone, "tiny");
    EXPECT_EQ(f.epochs_of(4), 3);
    EXPECT_EQ(f.epochs_of(5), 0);
    EXPECT_EQ(f.epochs_of(-1), 0);

    c.eval.class_il = false;  // evaluates task-IL only: its summaries are task-IL
    EXPECT_EQ(run_facts(c).primary_head_mode, HeadMode::task_il);
}

TEST(RunFacts, OfADomainIncrementalConfigParsedFromJson) {
    const ExperimentConfig c = parse_experiment_config(
        {{"method", {{"name", "sd-lora"}}},
         {"data", {{"dataset", "cifar100"}, {"root", "/nowhere"}, {"cifar100_labels", "coarse"}}},
         {"stream",
          {{"type", "domain-incremental"}, {"tasks", 4}, {"classes_per_task", 5}, {"task_incremental", true}}},
         {"train", {{"epochs", 2}}}});
    const RunFacts f = run_facts(c);
    EXPECT_EQ(f.method, "sd-lora");
    EXPECT_EQ(f.stream_type, StreamType::domain_incremental);
    EXPECT_EQ(f.tasks, 4);
    EXPECT_EQ(f.classes_per_task, 5);
    EXPECT_EQ(f.epochs_per_task, (std::vector<int>{2, 2, 2, 2}));
    EXPECT_EQ(f.primary_head_mode, HeadMode::task_il);
    EXPECT_EQ(f.dataset, "cifar100");
    ASSERT_EQ(f.class_names.size(), 20u);
    EXPECT_EQ(f.class_names[0], "aquatic_mammals");
}

TEST(RunFacts, OfADataSetStreamWithItsOwnEpochsPerTask) {
    ExperimentConfig c;
    c.train.epochs = 4;
    c.data.dataset = DatasetId::image_folder;
    c.stream.type = StreamType::datasets;
    c.stream.tasks = 3;
    for (int epochs : {0, 7, 1}) {
        DatasetTaskConfig task;
        task.root = "/nowhere";
        task.epochs = epochs;  // 0 = train.epochs
        c.stream.datasets.push_back(task);
    }
    const RunFacts f = run_facts(c);
    EXPECT_EQ(f.stream_type, StreamType::datasets);
    EXPECT_EQ(f.tasks, 3);
    EXPECT_EQ(f.classes_per_task, 0);  // each data set has its own
    EXPECT_EQ(f.epochs_per_task, (std::vector<int>{4, 7, 1}));
    EXPECT_EQ(f.dataset, "image-folder");
    EXPECT_TRUE(f.class_names.empty());  // the folders name the classes
}

RunFacts distinct_facts() {
    RunFacts f;
    f.method = "sd-lora";
    f.variant = "rank=4, lr=0.001";
    f.stream_type = StreamType::datasets;
    f.tasks = 3;
    f.classes_per_task = 0;
    f.epochs_per_task = {2, 5, 1};
    f.primary_head_mode = HeadMode::task_il;
    f.dataset = "cifar100";
    f.class_names = {"a", "b \"quoted\"", "ü"};
    f.backbone = "vit_base_patch16_224";
    return f;
}

TEST(RunFacts, JsonRoundTrip) {
    const RunFacts f = distinct_facts();
    EXPECT_EQ(parse_run_facts_json(run_facts_json(f)), f);
    EXPECT_EQ(parse_run_facts_json(run_facts_json(RunFacts{})), RunFacts{});
    EXPECT_EQ(parse_run_facts_json(""), RunFacts{});
    EXPECT_EQ(parse_run_facts_json("not json"), RunFacts{});
    // Unknown keys are ignored, missing ones keep the defaults.
    const RunFacts partial = parse_run_facts_json(R"({"method": "lori", "tasks": 2, "future": [1]})");
    EXPECT_EQ(partial.method, "lori");
    EXPECT_EQ(partial.tasks, 2);
    EXPECT_TRUE(partial.epochs_per_task.empty());
}

TEST(RunFactsStore, RoundTripThroughTheStore) {
    TempDir dir("facts");
    RunStore store = RunStore::open(dir.file("runs.db"));
    const int64_t exp = store.insert_experiment(ExperimentStarted{"facts", "{}", "h", {0}, {}});
    RunStarted started;
    started.method = "sd-lora";
    started.variant = "rank=4, lr=0.001";
    started.config_json = "{}";
    started.num_tasks = 3;
    started.facts = distinct_facts();  // differs from what "{}" would give: the event's facts are stored
    const int64_t id = store.insert_run(exp, started);
    const auto run = store.run(id);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->facts, started.facts);
    const auto listed = store.runs_of_experiment(exp);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].facts, started.facts);

    // A hand-made event without facts: the store derives them from its config.
    ExperimentConfig c;
    c.stream.task_incremental = true;
    c.stream.tasks = 4;
    RunStarted bare;
    bare.method = "lori";
    bare.config_json = to_json(c).dump();
    const auto derived = store.run(store.insert_run(exp, bare));
    ASSERT_TRUE(derived.has_value());
    RunFacts expected = run_facts(c);
    expected.method = "lori";  // the run's own method column
    EXPECT_EQ(derived->facts, expected);
}

TEST(RunFactsStore, AnOlderDatabaseGetsItsRunsFactsFromTheirStoredConfigs) {
    TempDir dir("facts");
    const std::string path = dir.file("v7.db");
    ExperimentConfig c;
    c.data.dataset = DatasetId::cifar100;
    c.data.cifar100_labels = Cifar100Labels::coarse;
    c.stream.tasks = 4;
    c.stream.classes_per_task = 5;
    c.stream.task_incremental = true;
    c.train.epochs = 2;
    const std::string config_json = to_json(c).dump();
    const auto [good, unreadable] = write_database_of_version(path, 7, [&](Database& db) {
        const lorica::testing::OldFinishedRun old{
            "2025-01-01T00:00:00.000Z", "2025-01-01T00:00:00.000Z", "2025-01-01T00:01:00.000Z", 0, "0.9", "2.5", 4, 10};
        const int64_t a = insert_old_finished_run(db, old);
        Statement set(db, "UPDATE runs SET config_json = ?, variant = 'v' WHERE id = ?");
        set.bind_text(1, config_json).bind_int64(2, a);
        set.execute();
        const int64_t b = insert_old_finished_run(db, old);
        db.exec("UPDATE runs SET config_json = 'not json' WHERE id = " + std::to_string(b));
        return std::pair{a, b};
    });
    RunStore store = RunStore::open(path);
    EXPECT_EQ(store.schema_version(), latest_schema_version());
    const auto run = store.run(good);
    ASSERT_TRUE(run.has_value());
    EXPECT_EQ(run->facts.method, "lora");  // the run's method column, not the config's
    EXPECT_EQ(run->facts.variant, "v");
    EXPECT_EQ(run->facts.stream_type, StreamType::class_incremental);
    EXPECT_EQ(run->facts.tasks, 4);
    EXPECT_EQ(run->facts.classes_per_task, 5);
    EXPECT_EQ(run->facts.epochs_per_task, (std::vector<int>{2, 2, 2, 2}));
    EXPECT_EQ(run->facts.primary_head_mode, HeadMode::task_il);
    EXPECT_EQ(run->facts.class_names, dataset_class_names(DatasetId::cifar100, Cifar100Labels::coarse));
    // Written by the migration: the column holds them, no reader derives them again.
    Database db(path);
    Statement read(db, "SELECT facts_json FROM runs WHERE id = ?");
    read.bind_int64(1, good);
    ASSERT_TRUE(read.step());
    EXPECT_EQ(parse_run_facts_json(read.column_text(0)), run->facts);

    const auto other = store.run(unreadable);
    ASSERT_TRUE(other.has_value());
    RunFacts only_columns;
    only_columns.method = "lora";
    EXPECT_EQ(other->facts, only_columns);
}

// Where `text` calls json::parse on an argument naming config_json, not to print the document
// again (`json::parse(...config_json...).dump(`): the byte offsets of those calls.
std::vector<size_t> config_json_parses(const std::string& text) {
    std::vector<size_t> found;
    const std::string call = "json::parse(";
    for (size_t at = text.find(call); at != std::string::npos; at = text.find(call, at + 1)) {
        size_t end = at + call.size();
        for (int depth = 1; end < text.size() && depth > 0; ++end)
            depth += text[end] == '(' ? 1 : text[end] == ')' ? -1 : 0;
        const std::string argument = text.substr(at + call.size(), end - at - call.size());
        if (argument.find("config_json") != std::string::npos && text.compare(end, 6, ".dump(") != 0)
            found.push_back(at);
    }
    return found;
}

TEST(RunFacts, TheReparseScanFindsAParseOfAConfig) {
    EXPECT_EQ(config_json_parses("auto j = nlohmann::json::parse(std::string(e.config_json), nullptr, false);").size(),
              1u);
    EXPECT_EQ(config_json_parses("os << nlohmann::json::parse(run->config_json).dump(2);").size(), 0u);
    EXPECT_EQ(config_json_parses("json::parse(text_->toPlainText().toStdString());").size(), 0u);
}

// The front ends read a run's facts, never its config text: no file under app/, widgets/ or cli/
// parses a config_json (printing the document itself is showing the config, not reading facts).
TEST(RunFacts, NoFrontEndParsesARunsConfigJson) {
    const std::filesystem::path root = std::filesystem::path(LORICA_SOURCE_PRESET_DIR).parent_path().parent_path();
    ASSERT_TRUE(std::filesystem::exists(root / "app" / "run_views.cpp")) << root;
    int files = 0;
    for (const char* folder : {"app", "widgets", "cli"})
        for (const auto& entry : std::filesystem::recursive_directory_iterator(root / folder)) {
            const std::string ext = entry.path().extension().string();
            if (ext != ".cpp" && ext != ".h") continue;
            std::ifstream in(entry.path());
            std::stringstream text;
            text << in.rdbuf();
            ++files;
            EXPECT_TRUE(config_json_parses(text.str()).empty()) << entry.path() << " parses a run's config_json";
        }
    EXPECT_GT(files, 20);
}

}  // namespace
}  // namespace lorica
