// The cost table end to end through lorica-cli (LORICA_CLI_PATH) on a tiny Fashion-MNIST run of
// sequential LoRA (rank 2 on q and v of a 2-block ViT of width 32): the trainer records the four cost
// keys after each task, `show RUN` prints them in its cost section, `show RUN --format json` and
// `show exp:N` carry them; a run stored without them (an older database) shows "—" and exits 0.
#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/experiment_config.h"
#include "engine/eval/cost_table.h"
#include "engine/model/flop_count.h"
#include "engine/store/run_store.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

using namespace lorica::testing;
namespace fs = std::filesystem;

TEST(CostTableCli, TheTrainerRecordsTheCostAndShowPrintsIt) {
    TempDir dir{"cost-cli"};
    const fs::path db = dir.path / "runs.db";
    write_tiny_fashion_mnist(dir.path / "fm", 10, 12, 6);
    const nlohmann::json config_json = tiny_run_config(dir.path / "fm", dir.path / "cache");
    write_text(dir.path / "config.json", config_json.dump());
    const CliResult r =
        run_cli_to({"run", "--config", (dir.path / "config.json").string(), "--db", db.string()}, dir.path / "run.log");
    ASSERT_EQ(r.exit_code, 0) << r.output;

    RunStore store = RunStore::open(db.string());
    const RunRecord run = store.list_runs().front();
    const RunCost cost = run_cost(store.method_state(run.id));
    ASSERT_EQ(cost.tasks.size(), 2u);
    // 2 blocks × {q, v} × r (in + rows) = 2 · 2 · 2 · (32 + 32): trained on each task and kept (A, B).
    const ExperimentConfig config = parse_experiment_config(config_json);
    for (int t = 0; t < 2; ++t) {
        const CostRow& row = cost.tasks[t];
        EXPECT_EQ(row.task, t);
        EXPECT_EQ(*row[CostColumn::learnable_params], 512.0);
        EXPECT_EQ(*row[CostColumn::stored_params], 512.0);
        EXPECT_EQ(*row[CostColumn::stored_features], 0.0);
        // Every stream head so far: 2 classes per task.
        EXPECT_DOUBLE_EQ(*row[CostColumn::inference_gflops],
                         inference_flops(ViTOptions::from_config(config.backbone, 0), 2 * (t + 1)).gflops());
    }

    const CliResult shown = run_cli_to({"show", std::to_string(run.id), "--db", db.string()}, dir.path / "show.log");
    ASSERT_EQ(shown.exit_code, 0) << shown.output;
    const size_t section = shown.output.find("cost (SD-LoRA's Table 5)");
    ASSERT_NE(section, std::string::npos) << shown.output;
    for (const auto& info : cost_columns())
        EXPECT_NE(shown.output.find(info.short_name, section), std::string::npos) << shown.output;
    const std::string gflops = format_cost(CostColumn::inference_gflops, cost.tasks[1][CostColumn::inference_gflops]);
    // The row of task 1: after task, GFLOPs/img, learnable, stored params, stored features.
    std::istringstream lines(shown.output.substr(section));
    std::vector<std::string> task1;
    for (std::string line; std::getline(lines, line) && task1.empty();) {
        std::istringstream cells(line);
        std::vector<std::string> row;
        for (std::string cell; cells >> cell;) row.push_back(cell);
        if (!row.empty() && row[0] == "1") task1 = row;
    }
    EXPECT_EQ(task1, (std::vector<std::string>{"1", gflops, "512", "512", "0"})) << shown.output;

    const CliResult json_shown = run_cli_to({"show", std::to_string(run.id), "--db", db.string(), "--format", "json"},
                                            dir.path / "show_json.log");
    ASSERT_EQ(json_shown.exit_code, 0) << json_shown.output;
    const auto doc = nlohmann::json::parse(json_shown.output);
    const auto& jcost = doc["runs"][0]["cost"];
    EXPECT_EQ(jcost["learnable_params"].get<double>(), 512.0);
    EXPECT_EQ(jcost["stored_features"].get<double>(), 0.0);
    EXPECT_EQ(jcost["tasks"].size(), 2u);

    const CliResult exp_shown =
        run_cli_to({"show", "exp:" + std::to_string(run.experiment_id), "--db", db.string()}, dir.path / "exp.log");
    ASSERT_EQ(exp_shown.exit_code, 0) << exp_shown.output;
    EXPECT_NE(exp_shown.output.find("GFLOPs/img"), std::string::npos) << exp_shown.output;
    EXPECT_NE(exp_shown.output.find(gflops), std::string::npos) << exp_shown.output;
}

TEST(CostTableCli, ARunWithoutCostKeysShowsADash) {
    TempDir dir{"cost-cli-old"};
    const fs::path db = dir.path / "old.db";
    int64_t id = 0;
    {
        RunStore store = RunStore::open(db.string());
        RunStarted s;
        s.method = "sequential-lora";
        s.num_tasks = 1;
        id = store.insert_run(0, s);
        store.insert_method_state(id, {0, 4, StateKey::magnitudes, {1.0}});
        store.finish_run(id, RunStatus::finished, "", 1.0);
    }
    const CliResult shown = run_cli_to({"show", std::to_string(id), "--db", db.string()}, dir.path / "show.log");
    ASSERT_EQ(shown.exit_code, 0) << shown.output;
    EXPECT_NE(shown.output.find("no cost recorded (—)"), std::string::npos) << shown.output;
    const CliResult json_shown =
        run_cli_to({"show", std::to_string(id), "--db", db.string(), "--format", "json"}, dir.path / "json.log");
    ASSERT_EQ(json_shown.exit_code, 0) << json_shown.output;
    EXPECT_TRUE(nlohmann::json::parse(json_shown.output)["runs"][0]["cost"]["inference_gflops"].is_null());
}

}  // namespace
}  // namespace lorica
