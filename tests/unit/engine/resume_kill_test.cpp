// Resuming a run killed with SIGKILL (lorica-cli resume): a real lorica-cli child runs a 4-task
// experiment and is killed as soon as the store shows steps of task index 1 or later past the newest
// task checkpoint; `lorica-cli resume`
// continues it into the same run record. Its evaluation rows (every phase: random init, foundation,
// before/in/end of task, hand-overs), per-class rows, step losses and learning rates, method state and
// analysis points equal — exactly, in order — those of the same experiment run uninterrupted into
// another database. Also: the run's message says it was resumed and from which task, and what cannot
// be resumed (a finished run, a run without checkpoint, missing or damaged checkpoint files, a changed
// config, a changed method state format) exits 2 naming the run and the file.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/io/resume_state.h"
#include "engine/store/run_resume.h"
#include "engine/store/run_store.h"
#include "engine/store/sqlite_db.h"
#include "tests/support/cli_fixtures.h"
#include "tests/support/temp_dir.h"

using namespace lorica;
using namespace lorica::testing;
namespace fs = std::filesystem;

namespace {

constexpr int kTasks = 4;
constexpr int kKillTask =
    1;  // kill once the store holds steps of this task index or a later one, past the newest checkpoint

struct ResumeFixture {
    TempDir dir{"resume-kill"};
    fs::path data = dir.path / "data";
    fs::path cache = dir.path / "cache";
    ResumeFixture() { write_tiny_fashion_mnist(data, 2 + 2 * kTasks, 32, 6); }

    fs::path config_file(const std::string& name, const std::string& method,
                         nlohmann::json options = nlohmann::json::object()) {
        nlohmann::json c = tiny_run_config(data, cache);
        c["name"] = name;
        c["stream"]["tasks"] = kTasks;
        c["data"]["train_per_class"] = 24;
        c["data"]["test_per_class"] = 6;
        c["train"]["epochs"] = 40;  // long enough tasks that the poll below sees one mid-way on an idle machine
        c["eval"]["random_init"] = true;
        c["eval"]["every_steps"] = 10;
        c["method"]["name"] = method;
        c["method"]["options"] = std::move(options);
        const fs::path path = dir.path / (name + ".json");
        write_text(path, c.dump(2));
        return path;
    }
};

int64_t count(const fs::path& db, const std::string& sql) {
    Database d(db.string(), OpenMode::read_only);
    return d.query_int64(sql);
}

// Runs the config, killing the child with SIGKILL once the store holds a step of task kKillTask or
// later that lies after the newest task checkpoint (mid-task: the cut back has rows to remove).
// Returns the run id. Fails the test when the child finished before it could be killed.
int64_t run_and_kill(const fs::path& config, const fs::path& db, const fs::path& log) {
    CliProcess child = spawn_cli({"run", "--config", config.string(), "--db", db.string()}, log);
    const std::string past_checkpoint =
        "SELECT count(*) FROM step_metrics WHERE task_index >= " + std::to_string(kKillTask) +
        " AND task_index > (SELECT count(*) - 1 FROM artifacts WHERE kind = 'run_checkpoint')";
    const bool reached = child.wait_until([&] { return fs::exists(db) && count(db, past_checkpoint) > 0; },
                                          std::chrono::minutes(5), std::chrono::milliseconds(5));
    const CliResult ended = child.stop(SIGKILL);
    EXPECT_TRUE(reached && ended.signal == SIGKILL) << "the child was not killed during the run:\n" << ended.output;
    return count(db, "SELECT max(id) FROM runs");
}

// The rows a run stored that must match between the resumed run and the one left alone.
struct RunRows {
    std::vector<std::tuple<int, int, int64_t, std::string, std::string, int64_t, int64_t>> eval;
    std::vector<std::tuple<int, int, int, int64_t, int64_t, int64_t, int64_t>>
        classes;  // ..., newly_wrong, lost_since_start
    std::vector<std::tuple<int, int, int64_t, int64_t, double, double>> steps;
    std::vector<std::tuple<int, int64_t, std::string, std::vector<double>>> state;
    std::vector<std::tuple<std::string, std::string, double, double>> analysis;
    std::vector<std::pair<int, int64_t>> planned;  // task, planned steps
    size_t checkpoints = 0;
};

RunRows rows_of(const fs::path& db, int64_t run) {
    RunStore store = RunStore::open(db.string());
    RunRows r;
    for (const auto& e : store.eval_rows(run))
        r.eval.emplace_back(e.row.after_task, e.row.eval_task, e.row.step, to_string(e.row.phase),
                            to_string(e.row.head_mode), e.row.correct, e.row.total);
    for (const auto& c : store.class_eval_rows(run))
        r.classes.emplace_back(c.row.after_task, c.row.eval_task, c.row.class_id, c.row.correct, c.row.total,
                               c.row.newly_wrong, c.row.lost_since_start);
    for (const auto& s : store.step_metrics(run))
        r.steps.emplace_back(s.task, s.epoch, s.step, s.step_in_task, s.loss, s.lr);
    for (const auto& m : store.method_state(run)) r.state.emplace_back(m.task, m.step, name_of(m.key), m.values);
    for (const auto& p : store.analysis_points(run))
        r.analysis.emplace_back(name_of(p.analysis), name_of(p.series), p.x, p.y);
    for (const auto& t : store.tasks(run)) r.planned.emplace_back(t.info.task, t.planned_steps);
    r.checkpoints = run_checkpoints(store, run).size();
    return r;
}

void expect_same_rows(const RunRows& a, const RunRows& b) {
    EXPECT_EQ(a.eval, b.eval);
    EXPECT_EQ(a.classes, b.classes);
    ASSERT_EQ(a.steps.size(), b.steps.size());
    for (size_t i = 0; i < a.steps.size(); ++i) ASSERT_EQ(a.steps[i], b.steps[i]) << "step row " << i;
    EXPECT_EQ(a.state, b.state);
    EXPECT_EQ(a.analysis, b.analysis);
    EXPECT_EQ(a.planned, b.planned);
    EXPECT_EQ(a.checkpoints, b.checkpoints);
}

void expect_kill_and_resume_match(const std::string& method, nlohmann::json options = nlohmann::json::object()) {
    ResumeFixture f;
    const fs::path config = f.config_file(method, method, options);
    const fs::path ref_db = f.dir.path / "ref.sqlite", db = f.dir.path / "killed.sqlite";
    const CliResult ref =
        run_cli_to({"run", "--config", config.string(), "--db", ref_db.string()}, f.dir.path / "ref.log");
    ASSERT_EQ(ref.exit_code, 0) << ref.output;
    const int64_t ref_run = count(ref_db, "SELECT max(id) FROM runs");

    const int64_t run = run_and_kill(config, db, f.dir.path / "killed.log");
    int64_t stored_steps = 0, checkpoint_step = 0;
    {
        RunStore store = RunStore::open(db.string());  // marks the dead writer's run interrupted
        ASSERT_EQ(store.run(run)->status, RunStatus::interrupted);
        const auto checkpoints = run_checkpoints(store, run);
        ASSERT_FALSE(checkpoints.empty());
        ASSERT_LT(checkpoints.back().task, kTasks - 1);
        checkpoint_step = read_resume_state(checkpoints.back().dir).step;
        stored_steps = count(db, "SELECT max(step) FROM step_metrics");
        std::printf("%s: killed at stored step %lld, newest checkpoint after task index %d (step %lld)\n",
                    method.c_str(), static_cast<long long>(stored_steps), checkpoints.back().task,
                    static_cast<long long>(checkpoint_step));
    }
    EXPECT_GT(stored_steps, checkpoint_step) << "nothing stored after the checkpoint: the cut back was not exercised";

    const CliResult resumed =
        run_cli_to({"resume", std::to_string(run), "--db", db.string()}, f.dir.path / "resume.log");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("ETA"), std::string::npos) << resumed.output;
    RunStore store = RunStore::open(db.string());
    const auto record = store.run(run);
    EXPECT_EQ(record->status, RunStatus::finished);
    EXPECT_NE(record->message.find("resumed after task"), std::string::npos) << record->message;
    EXPECT_EQ(store.list_runs().size(), 1u);
    expect_same_rows(rows_of(ref_db, ref_run), rows_of(db, run));
}

}  // namespace

TEST(ResumeKilledRun, SequentialLoRA) { expect_kill_and_resume_match("sequential-lora"); }
// With the decoupled-direction ablation (its norm in the graph, reopened at every task) and the accuracy
// matrix measured before the hand-over (the method records the end_of_task rows itself).
TEST(ResumeKilledRun, SDLoRA) {
    expect_kill_and_resume_match("sd-lora", {{"ablation", "single-decoupled"}, {"accuracy_matrix", "before-handover"}});
}
TEST(ResumeKilledRun, LoRISparse) { expect_kill_and_resume_match("lori-s"); }
TEST(ResumeKilledRun, LoRIMerge) { expect_kill_and_resume_match("lori-merge"); }
TEST(ResumeKilledRun, MergedLoRA) { expect_kill_and_resume_match("merged-lora"); }
// LoRA dropout draws its masks from the global generator the checkpoint carries.
TEST(ResumeKilledRun, MergedLoRAWithDropout) { expect_kill_and_resume_match("merged-lora", {{"dropout", 0.1}}); }
// InfLoRA's feature passes read each task's data before and after training; its bases carry over.
TEST(ResumeKilledRun, InfLoRA) { expect_kill_and_resume_match("inflora"); }

TEST(ResumeKilledRun, RefusesWhatCannotBeResumed) {
    ResumeFixture f;
    const fs::path config = f.config_file("refuse", "sequential-lora");
    const fs::path db = f.dir.path / "killed.sqlite";
    const int64_t run = run_and_kill(config, db, f.dir.path / "killed.log");
    const std::string id = std::to_string(run);
    auto resume = [&](const std::string& tag) {
        return run_cli_to({"resume", id, "--db", db.string()}, f.dir.path / (tag + ".log"));
    };
    std::string task_dir;
    {
        RunStore store = RunStore::open(db.string());
        task_dir = run_checkpoints(store, run).back().dir;
    }
    const fs::path state_file = fs::path(task_dir) / kResumeStateFile;
    const fs::path heads_file = fs::path(task_dir) / "heads.safetensors";
    const std::string state_bytes = read_bytes(state_file), heads_bytes = read_bytes(heads_file);
    auto expect_refused = [&](const CliResult& r, const std::string& names) {
        EXPECT_EQ(r.exit_code, 2) << r.output;
        EXPECT_NE(r.output.find("run " + id), std::string::npos) << r.output;
        EXPECT_NE(r.output.find(names), std::string::npos) << "expected '" << names << "' in:\n" << r.output;
    };

    // A damaged byte in the resume state, then a missing heads file.
    {
        std::string damaged = state_bytes;
        damaged[damaged.size() - 3] ^= 0x5A;
        write_text(state_file, damaged);
        expect_refused(resume("damaged"), state_file.string());
        write_text(state_file, state_bytes);
        fs::remove(heads_file);
        expect_refused(resume("missing"), heads_file.string());
        write_text(heads_file, heads_bytes);
    }
    // The method's state format changed (a checkpoint of format 2 read by format 1).
    {
        ResumeState state = read_resume_state(task_dir);
        state.method_format += 1;
        const std::string task = fs::path(task_dir).filename().string();
        write_resume_state(task_dir, state,
                           {task + "/checkpoint.json", task + "/heads.safetensors", task + "/adapter_set.safetensors",
                            "foundation_backbone.safetensors"});
        expect_refused(resume("format"), state_file.string());
        EXPECT_NE(resume("format2").output.find("format"), std::string::npos);
        state.method_format -= 1;
        write_resume_state(task_dir, state,
                           {task + "/checkpoint.json", task + "/heads.safetensors", task + "/adapter_set.safetensors",
                            "foundation_backbone.safetensors"});
    }
    // A changed config: the stored config no longer hashes to the run's config hash.
    {
        Database d(db.string());
        d.exec("UPDATE runs SET config_json = replace(config_json, '\"rank\":2', '\"rank\":3') WHERE id = " + id);
    }
    expect_refused(resume("config"), "config");
    {
        RunStore store = RunStore::open(db.string());
        const auto r = store.run(run);
        EXPECT_EQ(r->status, RunStatus::interrupted) << "a refused resume changed the run";
        Database d(db.string());
        d.exec("UPDATE runs SET config_json = replace(config_json, '\"rank\":3', '\"rank\":2') WHERE id = " + id);
    }
    // Nothing was changed by the refusals: the resume now works, and a finished run is refused.
    const CliResult ok = resume("ok");
    ASSERT_EQ(ok.exit_code, 0) << ok.output;
    expect_refused(resume("finished"), "finished");
    // No database, no run.
    const CliResult no_run = run_cli_to({"resume", "999", "--db", db.string()}, f.dir.path / "norun.log");
    EXPECT_EQ(no_run.exit_code, 2) << no_run.output;
    EXPECT_NE(no_run.output.find("no run 999"), std::string::npos) << no_run.output;
}

TEST(ResumeKilledRun, RefusesARunWithoutCheckpoint) {
    ResumeFixture f;
    const fs::path config = f.config_file("nockpt", "sequential-lora");
    const fs::path db = f.dir.path / "db.sqlite";
    const CliResult done =
        run_cli_to({"run", "--config", config.string(), "--db", db.string()}, f.dir.path / "run.log");
    ASSERT_EQ(done.exit_code, 0) << done.output;
    {
        Database d(db.string());
        d.exec("UPDATE runs SET status = 'interrupted'");
        d.exec("DELETE FROM artifacts WHERE kind = 'run_checkpoint'");
    }
    const CliResult r = run_cli_to({"resume", "1", "--db", db.string()}, f.dir.path / "resume.log");
    EXPECT_EQ(r.exit_code, 2) << r.output;
    EXPECT_NE(r.output.find("run 1 has no task checkpoint"), std::string::npos) << r.output;
}
