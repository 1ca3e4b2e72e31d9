// The low-loss-region analysis through lorica-cli (LORICA_CLI_PATH) on a tiny Fashion-MNIST run with
// analysis.low_loss_region = true: the run stores its points, `show --analysis low-loss-region` prints
// them (text: the matrices with two decimals; csv: the export's low_loss_* tables; json: the export's
// "low_loss_region" object), and a run without the analysis says how to turn it on.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "engine/eval/low_loss_table.h"
#include "engine/store/run_store.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

using namespace lorica::testing;
namespace fs = std::filesystem;

std::string low_loss_fixed2(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f", v);
    return buffer;
}

TEST(LowLossRegionCliTest, ShowPrintsTheStoredDistances) {
    TempDir dir{"low-loss-cli"};
    const fs::path db = dir.path / "runs.db";
    write_tiny_fashion_mnist(dir.path / "fm", 10, 12, 6);
    nlohmann::json config = tiny_run_config(dir.path / "fm", dir.path / "cache");
    config["analysis"] = {{"low_loss_region", true}};
    write_text(dir.path / "config.json", config.dump());
    const CliResult r =
        run_cli_to({"run", "--config", (dir.path / "config.json").string(), "--db", db.string()}, dir.path / "run.log");
    ASSERT_EQ(r.exit_code, 0) << r.output;

    RunStore store = RunStore::open(db.string());
    const int64_t id = store.list_runs().front().id;
    const LowLossTable table = low_loss_table(store.analysis_points(id));
    ASSERT_EQ(table.tasks, 2);
    EXPECT_GT(table.distance[0][1], 0.0);
    EXPECT_EQ(table.distance[0][1], table.distance[1][0]);

    const auto show = [&](const std::string& format) {
        return run_cli_to(
            {"show", std::to_string(id), "--db", db.string(), "--analysis", "low-loss-region", "--format", format},
            dir.path / ("show-" + format + ".log"));
    };
    const CliResult text = show("text");
    ASSERT_EQ(text.exit_code, 0) << text.output;
    EXPECT_NE(text.output.find("||W*_i - W*_j||_F"), std::string::npos) << text.output;
    for (double v : {table.distance[0][1], table.ratio[0][1], table.continual[1][0], table.optimum_from_start[1],
                     table.continual_from_start[1]})
        EXPECT_NE(text.output.find(low_loss_fixed2(v)), std::string::npos) << low_loss_fixed2(v) << "\n" << text.output;

    const CliResult csv = show("csv");
    ASSERT_EQ(csv.exit_code, 0) << csv.output;
    EXPECT_NE(csv.output.find("# low_loss_region\nrun_id,task_i,task_j,distance,ratio\n"), std::string::npos)
        << csv.output;
    EXPECT_NE(csv.output.find("# low_loss_continual\n"), std::string::npos) << csv.output;
    EXPECT_NE(csv.output.find("# low_loss_from_start\n"), std::string::npos) << csv.output;
    EXPECT_EQ(csv.output.find("contextual_forgetting"), std::string::npos) << csv.output;

    const CliResult json = show("json");
    ASSERT_EQ(json.exit_code, 0) << json.output;
    const nlohmann::json doc = nlohmann::json::parse(json.output);
    ASSERT_EQ(doc.size(), 1u);
    EXPECT_EQ(doc[0]["low_loss_region"]["tasks"], 2);
    EXPECT_DOUBLE_EQ(doc[0]["low_loss_region"]["distance"][0][1].get<double>(), table.distance[0][1]);
    EXPECT_TRUE(doc[0]["low_loss_region"]["continual"][0][1].is_null());  // optimum 1 after task 0: none
}

TEST(LowLossRegionCliTest, ARunWithoutTheAnalysisSaysHowToTurnItOn) {
    EXPECT_NE(format_low_loss_table({}).find("analysis.low_loss_region = true"), std::string::npos);
}

}  // namespace
}  // namespace lorica
