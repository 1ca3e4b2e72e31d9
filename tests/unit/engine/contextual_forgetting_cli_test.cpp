// Contextual forgetting end to end through lorica-cli (LORICA_CLI_PATH) on a tiny Fashion-MNIST run:
// the run stores a similarity per task and foundation class and the samples each class lost since
// the pre-stream evaluation; `show --analysis contextual-forgetting` prints the numbers that
// `export-results` writes; without WordNet the run still finishes, with a warning naming the package.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "engine/store/results_export.h"
#include "engine/store/run_store.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

namespace lorica {
namespace {

using namespace lorica::testing;
namespace fs = std::filesystem;

const std::string kCli = LORICA_CLI_PATH;

bool has_wordnet() { return fs::exists("/usr/share/wordnet/data.noun"); }

struct TinyRun {
    TempDir dir{"contextual-cli"};
    fs::path db = dir.path / "runs.db";
    CliResult run(const std::vector<std::pair<std::string, std::string>>& env = {}) {
        write_tiny_fashion_mnist(dir.path / "fm", 10, 12, 6);
        write_text(dir.path / "config.json", tiny_run_config(dir.path / "fm", dir.path / "cache").dump());
        CliLimits limits;
        limits.env = env;
        return run_cli_to({"run", "--config", (dir.path / "config.json").string(), "--db", db.string()},
                          dir.path / "run.log", limits);
    }
};

std::string fixed3(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.3f", v);
    return buffer;
}

TEST(ContextualForgettingCliTest, ShowPrintsWhatTheRunStoredAndTheExportHolds) {
    if (!has_wordnet()) GTEST_SKIP() << "no WordNet at /usr/share/wordnet (Debian package wordnet-base)";
    TinyRun tiny;
    const CliResult r = tiny.run();
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_EQ(r.output.find("warning: contextual"), std::string::npos) << r.output;

    RunStore store = RunStore::open(tiny.db.string());
    const int64_t id = store.list_runs().front().id;
    const auto points = store.analysis_points(id, AnalysisKey::class_similarity);
    ASSERT_EQ(points.size(), 4u);  // 2 tasks × 2 foundation classes
    for (const auto& p : points) {
        EXPECT_GT(p.y, 0.0);
        EXPECT_LE(p.y, 1.0);
    }
    std::map<int, ClassEvalRow> before;
    for (const auto& c : store.class_eval_rows(id)) {
        const ClassEvalRow& row = c.row;
        if (row.after_task < 0) {
            EXPECT_EQ(row.lost_since_start, -1);
            before[row.class_id] = row;
            continue;
        }
        ASSERT_TRUE(before.count(row.class_id));
        ASSERT_GE(row.lost_since_start, 0);
        EXPECT_LE(row.lost_since_start, before[row.class_id].correct);
        // correct now = correct before − lost + regained, regained ≥ 0
        EXPECT_GE(row.correct - (before[row.class_id].correct - row.lost_since_start), 0);
        // After the first task the previous end-of-task evaluation is the pre-stream one.
        if (row.after_task == 0) EXPECT_EQ(row.lost_since_start, row.newly_wrong);
    }

    const CliResult shown =
        run_cli_to({"show", std::to_string(id), "--db", tiny.db.string(), "--analysis", "contextual-forgetting"},
                   tiny.dir.path / "show.log");
    ASSERT_EQ(shown.exit_code, 0) << shown.output;
    const CliResult exported = run_cli_to(
        {"export-results", std::to_string(id), "--db", tiny.db.string(), "--out", (tiny.dir.path / "export").string()},
        tiny.dir.path / "export.log");
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
    std::ifstream csv(tiny.dir.path / "export" / "contextual_forgetting_summary.csv");
    const auto rows = parse_csv(csv, "contextual_forgetting_summary.csv");
    ASSERT_EQ(rows.size(), 3u);  // header, tasks 0 and 1
    for (size_t i = 1; i < rows.size(); ++i) {
        const auto& row = rows[i];  // run_id, task, lost, samples, lost_mean_similarity, class_mean_similarity
        const std::string line = "task " + row[1] + ": " + row[2] + " of " + row[3] + " samples lost";
        EXPECT_NE(shown.output.find(line), std::string::npos) << line << "\n" << shown.output;
        EXPECT_NE(shown.output.find("of all classes' samples " + fixed3(std::stod(row[5]))), std::string::npos)
            << shown.output;
        if (!row[4].empty())
            EXPECT_NE(shown.output.find("lost samples " + fixed3(std::stod(row[4]))), std::string::npos)
                << shown.output;
    }
    // --format csv: the export's tables of the analysis, as written by export-results.
    const CliResult csv_shown = run_cli_to({"show", std::to_string(id), "--db", tiny.db.string(), "--analysis",
                                            "contextual-forgetting", "--format", "csv"},
                                           tiny.dir.path / "show_csv.log");
    ASSERT_EQ(csv_shown.exit_code, 0) << csv_shown.output;
    for (const char* table :
         {"contextual_forgetting", "contextual_forgetting_density", "contextual_forgetting_summary"}) {
        const std::string file = read_bytes(tiny.dir.path / "export" / (std::string(table) + ".csv"));
        EXPECT_NE(csv_shown.output.find("# " + std::string(table) + "\n" + file), std::string::npos) << table;
    }
}

TEST(ContextualForgettingCliTest, WithoutWordNetTheRunFinishesAndSaysWhatIsMissing) {
    TinyRun tiny;
    const CliResult r = tiny.run({{"LORICA_WORDNET_DIR", (tiny.dir.path / "no-wordnet").string()}});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("wordnet-base"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find((tiny.dir.path / "no-wordnet").string()), std::string::npos) << r.output;
    RunStore store = RunStore::open(tiny.db.string());
    const int64_t id = store.list_runs().front().id;
    EXPECT_TRUE(store.analysis_points(id, AnalysisKey::class_similarity).empty());
    const CliResult shown =
        run_cli_to({"show", std::to_string(id), "--db", tiny.db.string(), "--analysis", "contextual-forgetting"},
                   tiny.dir.path / "show.log");
    EXPECT_EQ(shown.exit_code, 0) << shown.output;
    EXPECT_NE(shown.output.find("no class similarities stored"), std::string::npos) << shown.output;
}

}  // namespace
}  // namespace lorica
