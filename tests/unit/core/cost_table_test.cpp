// The cost table (SD-LoRA's Table 5, engine/eval/cost_table.h): the cost keys round-trip through the
// store, a run's rows and final row, the mean over seeds, formatting ("—" for what a run did not
// record), the variant table's cost columns and the results export's cost table and JSON; a run
// stored without the cost keys (an older database) reads as "—" everywhere and never fails.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/eval/cost_table.h"
#include "engine/store/results_export.h"
#include "engine/store/run_store.h"
#include "engine/store/sweep_summary.h"
#include "engine/vocabulary/analysis_keys.h"

namespace lorica {
namespace {

// A finished run of `tasks` tasks in `experiment`; with_cost: the trainer's four cost keys after each
// task (GFLOPs 0.5 + t, learnable 100, stored 100 · (t + 1), features 10 · t).
int64_t add_cost_run(RunStore& store, int64_t experiment, int tasks, bool with_cost, double gflops_offset = 0.0) {
    RunStarted s;
    s.method = "sequential-lora";
    s.num_tasks = tasks;
    const int64_t id = store.insert_run(experiment, s);
    for (int t = 0; t < tasks; ++t) {
        store.insert_method_state(id, {t, 10 * (t + 1), StateKey::magnitudes, {1.0, 2.0}});  // not a cost key
        if (!with_cost) continue;
        store.insert_method_state(id, {t, 10 * (t + 1), StateKey::inference_gflops, {0.5 + t + gflops_offset}});
        store.insert_method_state(id, {t, 10 * (t + 1), StateKey::trainable_params, {100.0}});
        store.insert_method_state(id, {t, 10 * (t + 1), StateKey::stored_params, {100.0 * (t + 1)}});
        store.insert_method_state(id, {t, 10 * (t + 1), StateKey::stored_features, {10.0 * t}});
    }
    store.finish_run(id, RunStatus::finished, "", 1.0);
    return id;
}

TEST(CostTable, KeysRoundTripThroughTheStore) {
    for (StateKey key : {StateKey::inference_gflops, StateKey::stored_params, StateKey::stored_features})
        EXPECT_EQ(parse_state_key(name_of(key)), key);
    EXPECT_EQ(name_of(StateKey::inference_gflops), "inference_gflops");
    EXPECT_EQ(name_of(StateKey::stored_params), "stored_params");
    EXPECT_EQ(name_of(StateKey::stored_features), "stored_features");

    RunStore store = RunStore::open(":memory:");
    const int64_t id = add_cost_run(store, 0, 2, true);
    const std::vector<MethodState> states = store.method_state(id);
    ASSERT_EQ(states.size(), 10u);
    EXPECT_EQ(states[1].key, StateKey::inference_gflops);
    EXPECT_EQ(states[1].values, std::vector<double>{0.5});
    EXPECT_EQ(states[9].key, StateKey::stored_features);
    EXPECT_EQ(states[9].task, 1);
    EXPECT_EQ(states[9].step, 20);
    EXPECT_EQ(states[9].values, std::vector<double>{10.0});

    const RunCost cost = run_cost(states);
    ASSERT_EQ(cost.tasks.size(), 2u);
    EXPECT_EQ(cost.tasks[0].task, 0);
    EXPECT_EQ(*cost.tasks[0][CostColumn::stored_params], 100.0);
    const CostRow last = cost.final_row();
    EXPECT_EQ(last.task, 1);
    EXPECT_EQ(*last[CostColumn::inference_gflops], 1.5);
    EXPECT_EQ(*last[CostColumn::learnable_params], 100.0);
    EXPECT_EQ(*last[CostColumn::stored_params], 200.0);
    EXPECT_EQ(*last[CostColumn::stored_features], 10.0);
}

TEST(CostTable, FormatsCountsGflopsAndWhatIsMissing) {
    EXPECT_EQ(format_cost(CostColumn::learnable_params, 368640.0), "368,640");
    EXPECT_EQ(format_cost(CostColumn::stored_params, 999.0), "999");
    EXPECT_EQ(format_cost(CostColumn::stored_params, 1000.0), "1,000");
    EXPECT_EQ(format_cost(CostColumn::stored_features, 0.0), "0");
    EXPECT_EQ(format_cost(CostColumn::stored_params, 1234567.4), "1,234,567");
    EXPECT_EQ(format_cost(CostColumn::inference_gflops, 35.127619584), "35.13");
    EXPECT_EQ(format_cost(CostColumn::inference_gflops, 0.005337088), "0.005337");
    EXPECT_EQ(format_cost(CostColumn::inference_gflops, std::nullopt), "—");
    EXPECT_EQ(format_cost(CostColumn::learnable_params, std::nullopt), "—");

    // A run without the cost keys (an older database): no rows, an explanatory line with "—".
    const RunCost none = run_cost({{0, 5, StateKey::magnitudes, {1.0}}});
    EXPECT_TRUE(none.empty());
    EXPECT_TRUE(none.final_row().empty());
    EXPECT_NE(format_cost_table(none).find("—"), std::string::npos);

    // One key missing on a task prints "—" in its cell.
    const RunCost partial = run_cost({{0, 5, StateKey::inference_gflops, {2.0}}});
    const std::string text = format_cost_table(partial);
    EXPECT_NE(text.find("GFLOPs/img"), std::string::npos) << text;
    EXPECT_NE(text.find("2  "), std::string::npos) << text;
    EXPECT_NE(text.find("—"), std::string::npos) << text;
}

TEST(CostTable, MeanOverRunsSkipsAbsentValues) {
    CostRow a, b, none;
    a[CostColumn::inference_gflops] = 1.0;
    a[CostColumn::stored_params] = 10.0;
    b[CostColumn::inference_gflops] = 3.0;
    const CostRow mean = mean_cost({a, b, none});
    EXPECT_EQ(*mean[CostColumn::inference_gflops], 2.0);
    EXPECT_EQ(*mean[CostColumn::stored_params], 10.0);
    EXPECT_FALSE(mean[CostColumn::learnable_params].has_value());
    EXPECT_TRUE(mean_cost({}).empty());
}

TEST(CostTable, VariantTableAndExportCarryTheCost) {
    RunStore store = RunStore::open(":memory:");
    const int64_t exp = store.insert_experiment(ExperimentStarted{"cost", "{}", "h", {0, 1}, {}});
    const int64_t first = add_cost_run(store, exp, 2, true);
    add_cost_run(store, exp, 2, true, 1.0);  // second seed: GFLOPs 2.5 after task 1

    const auto variants = summarize_variants(store, exp);
    ASSERT_EQ(variants.size(), 1u);
    EXPECT_EQ(*variants[0].cost[CostColumn::inference_gflops], 2.0);  // mean of 1.5 and 2.5
    EXPECT_EQ(*variants[0].cost[CostColumn::stored_params], 200.0);
    const std::string table = format_variant_table(variants);
    for (const auto& info : cost_columns()) EXPECT_NE(table.find(info.short_name), std::string::npos) << table;
    EXPECT_NE(table.find("200"), std::string::npos) << table;

    const ResultsExport results = export_results(store, {first});
    const CsvTable& cost = results.table("cost");
    EXPECT_EQ(cost.header, (std::vector<std::string>{"run_id", "task", "inference_gflops", "learnable_params",
                                                     "stored_params", "stored_features"}));
    ASSERT_EQ(cost.rows.size(), 2u);
    EXPECT_EQ(cost.rows[1], (std::vector<std::string>{std::to_string(first), "1", "1.5", "100", "200", "10"}));
    const auto& jcost = results.document["runs"][0]["cost"];
    EXPECT_EQ(jcost["inference_gflops"].get<double>(), 1.5);
    EXPECT_EQ(jcost["stored_params"].get<double>(), 200.0);
    ASSERT_EQ(jcost["tasks"].size(), 2u);
    EXPECT_EQ(jcost["tasks"][0]["task"].get<int>(), 0);
    EXPECT_EQ(jcost["tasks"][0]["stored_features"].get<double>(), 0.0);
    EXPECT_EQ(results.document["variants"][0]["cost"]["inference_gflops"].get<double>(), 2.0);
}

TEST(CostTable, ARunWithoutCostKeysReadsAsMissingEverywhere) {
    RunStore store = RunStore::open(":memory:");
    const int64_t exp = store.insert_experiment(ExperimentStarted{"old", "{}", "h", {0}, {}});
    const int64_t id = add_cost_run(store, exp, 2, false);
    const auto variants = summarize_variants(store, exp);
    ASSERT_EQ(variants.size(), 1u);
    EXPECT_TRUE(variants[0].cost.empty());
    EXPECT_NE(format_variant_table(variants).find("—"), std::string::npos);
    const ResultsExport results = export_results(store, {id});
    EXPECT_TRUE(results.table("cost").rows.empty());
    const auto& jcost = results.document["runs"][0]["cost"];
    EXPECT_TRUE(jcost["inference_gflops"].is_null());
    EXPECT_TRUE(jcost["stored_features"].is_null());
    EXPECT_TRUE(jcost["tasks"].empty());
}

}  // namespace
}  // namespace lorica
