// Experiment variants through the engine: a tiny rank sweep runs every variant, stores the variant on
// its runs with the rank-sweep points and per-class newly misclassified counts, and shares one cached
// foundation; an unknown method in a variant fails validation naming the variant's field.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>
#include <unistd.h>

#include "tests/support/temp_dir.h"
#include "engine/config/config_check.h"
#include "engine/config/experiment_config.h"
#include "engine/config/experiment_variants.h"
#include "engine/store/sweep_summary.h"
#include "engine/store/run_store.h"
#include "engine/store/store_listener.h"
#include "engine/vocabulary/analysis_keys.h"
#include "engine/services/experiment_runner.h"
#include "engine/train/foundation.h"

using namespace lorica;
using lorica::testing::TempDir;
namespace fs = std::filesystem;

namespace {

// Foundation 3 classes × 200 images (1 epoch), 2 tasks × 2 classes × 100 images, 4 steps per task.
nlohmann::json tiny_sweep(const fs::path& dir) {
    return {{"name", "tiny-sweep"},
            {"device", "cpu"},
            {"threads", 1},
            {"cache_dir", (dir / "cache").string()},
            {"data", {{"train_per_class", 100}, {"test_per_class", 40}}},
            {"foundation", {{"classes", 3}, {"train_per_class", 200}, {"epochs", 1}, {"batch_size", 64}}},
            {"stream", {{"tasks", 2}, {"classes_per_task", 2}, {"domains", {"identity", "rot90"}}}},
            {"method", {{"name", "sequential-lora"}, {"targets", {"qkv"}}}},
            {"train", {{"epochs", 1}, {"batch_size", 64}, {"max_steps_per_task", 4}}},
            {"eval", {{"random_init", false}, {"before_task", false}}},
            {"sweep", {{"field", "method.rank"}, {"values", {1, 2}}, {"alpha_per_rank", 2.0}}}};
}

}  // namespace

TEST(ExperimentVariantsRun, FoundationCacheKeyIsSharedByVariantsWithEqualFoundation) {
    nlohmann::json doc = tiny_sweep("/tmp");
    doc["variants"] = {{{"label", "lora"}, {"set", nlohmann::json::object()}},
                       {{"label", "longer-foundation"}, {"set", {{"foundation.epochs", 3}}}}};
    const auto variants = expand_variants(parse_experiment_config(doc));
    ASSERT_EQ(variants.size(), 4u);                                                             // 2 variants × 2 ranks
    EXPECT_EQ(foundation_hash(variants[0].config, 0), foundation_hash(variants[1].config, 0));  // rank only
    EXPECT_EQ(foundation_hash(variants[2].config, 0), foundation_hash(variants[3].config, 0));
    EXPECT_NE(foundation_hash(variants[0].config, 0), foundation_hash(variants[2].config, 0));
    EXPECT_NE(foundation_hash(variants[0].config, 0), foundation_hash(variants[0].config, 1));
}

TEST(ExperimentVariantsRun, UnknownMethodInAVariantFailsValidationNamingIt) {
    nlohmann::json doc = {{"variants",
                           {{{"label", "lora"}, {"set", {{"method.name", "sequential-lora"}}}},
                            {{"label", "ft"}, {"set", {{"method.name", "full-finetune"}}}},
                            {{"label", "typo"}, {"set", {{"method.name", "sd-lroa"}}}}}}};
    const ExperimentConfig config = parse_experiment_config(doc);  // the method registry is not consulted here
    try {
        validate_experiment(config);
        FAIL() << "no error for an unknown method";
    } catch (const ConfigError& e) {
        EXPECT_EQ(e.field(), "variants[2].set.method.name");
        EXPECT_NE(std::string(e.what()).find("variant 'typo'"), std::string::npos) << e.what();
    }
    doc["variants"][2]["set"]["method.name"] = "frozen-backbone";
    EXPECT_NO_THROW(validate_experiment(parse_experiment_config(doc)));
}

TEST(ExperimentVariantsRun, RankSweepStoresVariantsPointsAndNewlyWrong) {
    TempDir dir("variants-sweep");
    const ExperimentConfig config = parse_experiment_config(tiny_sweep(dir.path));
    validate_experiment(config);
    auto store = std::make_shared<RunStore>(RunStore::open((dir.path / "runs.db").string()));
    auto listener = std::make_shared<StoreListener>(store);
    EventRecorder recorder;
    EventFanout fanout;
    fanout.add(listener);
    fanout.add(std::shared_ptr<EventListener>(&recorder, [](EventListener*) {}));
    CancelToken cancel;
    ASSERT_EQ(run_experiment(config, fanout, cancel), RunStatus::finished);
    listener->flush();

    int cache_hits = 0;
    std::vector<std::string> labels;
    for (const auto& e : recorder.events()) {
        if (auto* f = std::get_if<FoundationProgress>(&e)) cache_hits += f->from_cache;
        if (auto* s = std::get_if<ExperimentStarted>(&e)) labels = s->variants;
    }
    EXPECT_EQ(labels, (std::vector<std::string>{"rank=1", "rank=2"}));
    EXPECT_GE(cache_hits, 1) << "the second variant reuses the first one's foundation";

    const auto experiments = store->list_experiments();
    ASSERT_EQ(experiments.size(), 1u);
    const auto runs = store->runs_of_experiment(experiments[0].id);
    ASSERT_EQ(runs.size(), 2u);
    for (int i = 0; i < 2; ++i) {
        EXPECT_EQ(runs[i].status, RunStatus::finished) << runs[i].message;
        EXPECT_EQ(runs[i].variant, "rank=" + std::to_string(i + 1));
        EXPECT_EQ(runs[i].variant_index, i);
        EXPECT_EQ(runs[i].sweep_field, "method.rank");
        EXPECT_EQ(runs[i].sweep_value, std::to_string(i + 1));
        const auto run_config = nlohmann::json::parse(runs[i].config_json);
        EXPECT_EQ(run_config["method"]["rank"], i + 1);
        EXPECT_EQ(run_config["method"]["alpha"], 2.0 * (i + 1));
        EXPECT_FALSE(run_config.contains("sweep"));

        // The stored points equal the metrics recomputed from the stored rows.
        const MetricSet m = stored_run_metrics(*store, runs[i].id, HeadMode::class_il);
        const auto points = store->analysis_points(runs[i].id, AnalysisKey::rank_sweep);
        ASSERT_EQ(points.size(), 2u);
        for (const auto& p : points) {
            EXPECT_EQ(p.x, i + 1);
            const double expected =
                p.series == kSeriesFoundationForgetting ? *m.foundation_drop : *m.forgetting_initial;
            EXPECT_DOUBLE_EQ(p.y, expected) << name_of(p.series);
        }

        // Newly misclassified counts: recorded after each task, never above the class's samples nor
        // above the samples that were right before.
        std::map<std::pair<int, int>, ClassEvalRow> by_key;
        for (const auto& r : store->class_eval_rows(runs[i].id)) by_key[{r.row.after_task, r.row.class_id}] = r.row;
        int checked = 0;
        for (const auto& [key, row] : by_key) {
            if (key.first < 0) {
                EXPECT_EQ(row.newly_wrong, -1);
                continue;
            }
            const ClassEvalRow& before = by_key.at({key.first - 1, key.second});
            ASSERT_GE(row.newly_wrong, 0);
            EXPECT_LE(row.newly_wrong, before.correct);
            // correct_after = correct_before − newly_wrong + newly_right, so newly_right ≥ 0:
            EXPECT_GE(row.correct - (before.correct - row.newly_wrong), 0);
            ++checked;
        }
        EXPECT_EQ(checked, 2 * 3);  // 2 tasks × 3 foundation classes
    }
    const auto table = rank_sweep_table(*store, experiments[0].id);
    ASSERT_EQ(table.size(), 2u);
    EXPECT_EQ(table[0].rank, 1.0);
    EXPECT_EQ(table[1].rank, 2.0);
    const auto variants = summarize_variants(*store, experiments[0].id);
    ASSERT_EQ(variants.size(), 2u);
    EXPECT_EQ(variants[1].label, "rank=2");
    EXPECT_EQ(variants[1].finished, 1);
}
